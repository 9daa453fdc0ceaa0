// Command benchtable turns `go test -bench -benchmem` output into markdown
// tables: one table per group of sub-benchmarks (the name up to its last
// slash), one row per contender, each value the median of the -count runs,
// with the ratio of each row's median to the baseline row's. It reads ns/op,
// B/op, allocs/op and, when the benchmarks report it, cpu-ns/op (process
// CPU time per iteration); the spread columns show half the range of the
// runs relative to the median, a rough noise indicator.
//
//	go test -run '^$' -bench . -benchmem -count 10 | go run ./cmd/benchtable
//
// Flags:
//
//	-baseline a,b,...  row names that serve as a group's baseline, in order of
//	                   preference (default: the first row of the group)
//	-open name         the unguarded row of a router group; when present, the
//	                   table also shows each row's cost above it (in
//	                   cpu-ns/op when reported, else in ns/op)
//	-target spec       a target to check, repeatable:
//	                   "GROUP: ROW METRIC <= FACTOR x OTHER", for example
//	                   "Guard/EdDSA: authguard ns/op <= 1.15 x golang-jwt";
//	                   "GROUP: ROW METRIC <= LIMIT", an absolute bound on the
//	                   median, for example "Guard/EdDSA: authguard ns/op <= 1000";
//	                   either form with "over OPEN" after the metric compares
//	                   costs above the row OPEN (the router alone), for example
//	                   "Chi/EdDSA: authguard cpu-ns/op over none <= 0.2 x jwtauth"
//	-order a,b,...     print the groups whose name starts with a first, then
//	                   those starting with b, and so on (default: input order)
//	-strict            exit with status 1 when a target fails or is missing
//
// Lines that are not benchmark results are ignored, so the whole output of
// go test can be piped in.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// metrics are the units read from each result line, in table order.
var metrics = []string{"ns/op", "cpu-ns/op", "B/op", "allocs/op"}

// row is one contender of a group: every sample of every metric.
type row struct {
	name    string
	samples map[string][]float64
}

func (r *row) median(metric string) (float64, bool) {
	s := r.samples[metric]
	if len(s) == 0 {
		return 0, false
	}
	s = slices.Clone(s)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2], true
	}
	return (s[n/2-1] + s[n/2]) / 2, true
}

// spread is (max-min)/median of a metric, a rough noise indicator.
func (r *row) spread(metric string) (float64, bool) {
	s := r.samples[metric]
	m, ok := r.median(metric)
	if !ok || m == 0 || len(s) < 2 {
		return 0, false
	}
	return (slices.Max(s) - slices.Min(s)) / m, true
}

// group is the rows of one benchmark group, in order of first appearance.
type group struct {
	name string
	rows []*row
}

func (g *group) row(name string) *row {
	for _, r := range g.rows {
		if r.name == name {
			return r
		}
	}
	return nil
}

// results is every group read, in order of first appearance.
type results struct {
	groups []*group
}

func (rs *results) group(name string) *group {
	for _, g := range rs.groups {
		if g.name == name {
			return g
		}
	}
	return nil
}

func (rs *results) add(groupName, rowName, metric string, v float64) {
	g := rs.group(groupName)
	if g == nil {
		g = &group{name: groupName}
		rs.groups = append(rs.groups, g)
	}
	r := g.row(rowName)
	if r == nil {
		r = &row{name: rowName, samples: map[string][]float64{}}
		g.rows = append(g.rows, r)
	}
	r.samples[metric] = append(r.samples[metric], v)
}

var (
	procSuffix   = regexp.MustCompile(`-\d+$`)
	repeatSuffix = regexp.MustCompile(`#\d+$`)
)

// splitName turns "BenchmarkGuard/EdDSA/authguard-2" into the group
// "Guard/EdDSA" and the row "authguard". The "#01" that the testing package
// appends to a sub-benchmark run again under the same name is dropped, so
// the repeats are samples of one row.
func splitName(name string) (groupName, rowName string) {
	name = strings.TrimPrefix(name, "Benchmark")
	name = procSuffix.ReplaceAllString(name, "")
	name = repeatSuffix.ReplaceAllString(name, "")
	i := strings.LastIndexByte(name, '/')
	if i < 0 {
		return name, name
	}
	return name[:i], name[i+1:]
}

// parse reads go test -bench output.
func parse(r io.Reader) (*results, error) {
	rs := &results{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		// Name, iterations, then value-unit pairs.
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
			continue
		}
		if _, err := strconv.ParseInt(f[1], 10, 64); err != nil {
			continue
		}
		groupName, rowName := splitName(f[0])
		for i := 2; i+1 < len(f); i += 2 {
			if !slices.Contains(metrics, f[i+1]) {
				continue
			}
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			rs.add(groupName, rowName, f[i+1], v)
		}
	}
	return rs, sc.Err()
}

// baseline picks the group's baseline row.
func baseline(g *group, prefs []string) *row {
	for _, p := range prefs {
		if r := g.row(p); r != nil {
			return r
		}
	}
	return g.rows[0]
}

// ratio compares row a with row b on metric as the ratio of their medians,
// less the open row o's median when o is not nil. (go test -count repeats
// each sub-benchmark back to back, so the runs of two rows are not paired.)
func ratio(a, b, o *row, metric string) float64 {
	x, y := a.mustMedian(metric), b.mustMedian(metric)
	if o != nil {
		ov := o.mustMedian(metric)
		x, y = x-ov, y-ov
	}
	return div(x, y)
}

func div(x, y float64) float64 {
	switch {
	case x == y:
		return 1
	case y == 0:
		return math.Inf(1)
	}
	return x / y
}

func (r *row) mustMedian(metric string) float64 {
	v, _ := r.median(metric)
	return v
}

func fmtRatio(v float64) string {
	if math.IsInf(v, 0) {
		return "∞"
	}
	return fmt.Sprintf("%.2fx", v)
}

func num(v float64) string {
	switch {
	case v == math.Trunc(v) && math.Abs(v) < 1e15:
		return strconv.FormatInt(int64(v), 10)
	case math.Abs(v) >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	default:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
}

// table writes one group as a markdown table. The cost over the open row
// (the router alone) is computed from cpu-ns/op when the input has it, else
// from ns/op.
func table(w io.Writer, g *group, prefs []string, open string) {
	base := baseline(g, prefs)
	openRow := g.row(open)
	if openRow == base {
		openRow = nil
	}
	_, hasCPU := base.median("cpu-ns/op")
	over := "ns/op"
	if hasCPU {
		over = "cpu-ns/op"
	}
	med := func(r *row, m string) float64 { return r.mustMedian(m) }
	vs := func(r *row, m string) string { return fmtRatio(ratio(r, base, nil, m)) }
	runs := len(base.samples["ns/op"])
	fmt.Fprintf(w, "#### %s (baseline: %s, median of %d runs)\n\n", g.name, base.name, runs)
	head := []string{"contender", "ns/op", "vs base"}
	if hasCPU {
		head = append(head, "cpu-ns/op", "vs base")
	}
	if openRow != nil {
		head = append(head, over+" over "+open, "vs base")
	}
	head = append(head, "B/op", "vs base", "allocs/op", "vs base", "spread ns")
	if hasCPU {
		head = append(head, "spread cpu")
	}
	fmt.Fprintln(w, "| "+strings.Join(head, " | ")+" |")
	fmt.Fprintln(w, "|---"+strings.Repeat("|--:", len(head)-1)+"|")
	spread := func(r *row, m string) string {
		if s, ok := r.spread(m); ok {
			return fmt.Sprintf("±%.0f%%", 50*s)
		}
		return "-"
	}
	for _, r := range g.rows {
		name := r.name
		if r == base {
			name = "**" + name + "** (baseline)"
		}
		cells := []string{name, num(med(r, "ns/op")), vs(r, "ns/op")}
		if hasCPU {
			cells = append(cells, num(med(r, "cpu-ns/op")), vs(r, "cpu-ns/op"))
		}
		if openRow != nil {
			if r == openRow {
				cells = append(cells, "-", "-")
			} else {
				cells = append(cells, num(med(r, over)-med(openRow, over)), fmtRatio(ratio(r, base, openRow, over)))
			}
		}
		cells = append(cells,
			num(med(r, "B/op")), vs(r, "B/op"),
			num(med(r, "allocs/op")), vs(r, "allocs/op"),
			spread(r, "ns/op"))
		if hasCPU {
			cells = append(cells, spread(r, "cpu-ns/op"))
		}
		fmt.Fprintln(w, "| "+strings.Join(cells, " | ")+" |")
	}
	fmt.Fprintln(w)
}

// target is one "GROUP: ROW METRIC [over OPEN] <= FACTOR x OTHER" check,
// or, with no OTHER, one "GROUP: ROW METRIC [over OPEN] <= LIMIT" bound.
type target struct {
	spec, group, row, metric, open, other string
	factor                                float64
}

var targetRE = regexp.MustCompile(`^\s*(\S+):\s*(\S+)\s+(ns/op|cpu-ns/op|B/op|allocs/op)(?:\s+over\s+(\S+))?\s*<=\s*([0-9.]+)(?:\s*x\s*(\S+))?\s*$`)

func parseTarget(spec string) (target, error) {
	m := targetRE.FindStringSubmatch(spec)
	if m == nil {
		return target{}, fmt.Errorf("target %q: want \"GROUP: ROW METRIC [over OPEN] <= FACTOR x OTHER\" or \"GROUP: ROW METRIC [over OPEN] <= LIMIT\"", spec)
	}
	f, err := strconv.ParseFloat(m[5], 64)
	if err != nil {
		return target{}, fmt.Errorf("target %q: %v", spec, err)
	}
	return target{spec: strings.TrimSpace(spec), group: m[1], row: m[2], metric: m[3], open: m[4], factor: f, other: m[6]}, nil
}

// check evaluates t; ok is false when it fails or its rows are missing.
func (t target) check(rs *results) (verdict string, ok bool) {
	g := rs.group(t.group)
	if g == nil {
		return "MISSING (no group " + t.group + ")", false
	}
	names := []string{t.row}
	if t.other != "" {
		names = append(names, t.other)
	}
	if t.open != "" {
		names = append(names, t.open)
	}
	for _, n := range names {
		if r := g.row(n); r == nil {
			return "MISSING (no row " + n + ")", false
		} else if _, ok := r.median(t.metric); !ok {
			return "MISSING (no " + t.metric + " in " + n + ")", false
		}
	}
	a := g.row(t.row)
	var o *row
	over := ""
	if t.open != "" {
		o, over = g.row(t.open), " over "+t.open
	}
	av := a.mustMedian(t.metric)
	if o != nil {
		av -= o.mustMedian(t.metric)
	}
	if t.other == "" {
		verdict = "PASS"
		if av > t.factor {
			verdict = "FAIL"
		}
		return fmt.Sprintf("%s: %s %s%s (limit %s)", verdict, t.row, num(av), over, num(t.factor)), av <= t.factor
	}
	b := g.row(t.other)
	bv := b.mustMedian(t.metric)
	if o != nil {
		bv -= o.mustMedian(t.metric)
	}
	r := ratio(a, b, o, t.metric)
	verdict = "PASS"
	if r > t.factor {
		verdict = "FAIL"
	}
	return fmt.Sprintf("%s: %s (median%s %s %s, %s %s)", verdict, fmtRatio(r), over, t.row, num(av), t.other, num(bv)), r <= t.factor
}

type targetFlags []target

func (t *targetFlags) String() string { return fmt.Sprint(len(*t)) }
func (t *targetFlags) Set(s string) error {
	tg, err := parseTarget(s)
	if err != nil {
		return err
	}
	*t = append(*t, tg)
	return nil
}

// order sorts the groups by the first of prefixes their name starts with;
// groups matching none come last; the input order is kept otherwise.
func (rs *results) order(prefixes []string) {
	rank := func(g *group) int {
		for i, p := range prefixes {
			if strings.HasPrefix(g.name, p) {
				return i
			}
		}
		return len(prefixes)
	}
	slices.SortStableFunc(rs.groups, func(a, b *group) int { return rank(a) - rank(b) })
}

func run(in io.Reader, out io.Writer, prefs []string, open string, targets []target, order []string) (failed int, err error) {
	rs, err := parse(in)
	if err != nil {
		return 0, err
	}
	if len(rs.groups) == 0 {
		return 0, fmt.Errorf("no benchmark results in the input")
	}
	rs.order(order)
	for _, g := range rs.groups {
		table(out, g, prefs, open)
	}
	if len(targets) > 0 {
		fmt.Fprintln(out, "#### Targets")
		fmt.Fprintln(out)
		fmt.Fprintln(out, "| target | verdict |")
		fmt.Fprintln(out, "|---|---|")
		for _, t := range targets {
			v, ok := t.check(rs)
			if !ok {
				failed++
			}
			fmt.Fprintf(out, "| `%s` | %s |\n", t.spec, v)
		}
		fmt.Fprintln(out)
	}
	return failed, nil
}

// list splits a comma-separated flag value.
func list(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func main() {
	prefs := flag.String("baseline", "", "comma-separated baseline row names, in order of preference")
	open := flag.String("open", "", "name of the unguarded row of a group")
	strict := flag.Bool("strict", false, "exit 1 when a target fails or is missing")
	order := flag.String("order", "", "comma-separated group name prefixes, in the order to print them")
	var targets targetFlags
	flag.Var(&targets, "target", `target to check, "GROUP: ROW METRIC <= FACTOR x OTHER" (repeatable)`)
	flag.Parse()
	failed, err := run(os.Stdin, os.Stdout, list(*prefs), *open, targets, list(*order))
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(2)
	}
	if *strict && failed > 0 {
		fmt.Fprintf(os.Stderr, "benchtable: %d target(s) not met\n", failed)
		os.Exit(1)
	}
}
