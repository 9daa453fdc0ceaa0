package demo

import (
	"context"
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// PathMetrics serves the service's metrics in the Prometheus text format
// when AUTHGUARD_METRICS=1 (not part of the token-endpoint contract).
const PathMetrics = "/metrics"

// metrics is the OpenTelemetry SDK behind /metrics: a meter provider whose
// only reader is a Prometheus exporter on a registry of its own (not the
// process-wide default one).
type metrics struct {
	provider *sdkmetric.MeterProvider
	handler  http.Handler
}

// newMetrics builds the meter provider and the /metrics handler.
func newMetrics() (*metrics, error) {
	reg := prometheus.NewRegistry()
	exp, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return nil, fmt.Errorf("demo: prometheus exporter: %w", err)
	}
	return &metrics{
		provider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp)),
		handler:  promhttp.HandlerFor(reg, promhttp.HandlerOpts{}),
	}, nil
}

// shutdown stops the meter provider (nil: nothing to stop).
func (m *metrics) shutdown(ctx context.Context) error {
	if m == nil {
		return nil
	}
	return m.provider.Shutdown(ctx)
}

// MetricsHandler is the handler of PathMetrics, or nil when
// AUTHGUARD_METRICS is not 1: the routers mount the path only then.
func (a *App) MetricsHandler() http.Handler {
	if a.metrics == nil {
		return nil
	}
	return a.metrics.handler
}
