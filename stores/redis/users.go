package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authguard/authguard/core/store"
)

// Users live in one hash slot ({u}), so that the uniqueness of ids and
// e-mails is checked and written by one script: a hash per user and a
// string per e-mail naming its user. The scripts derive e-mail keys from
// the e-mail key prefix (ARGV), which carries the same hash tag.

// createUserScript: KEYS user, e-mail, ids; ARGV id, fields (pairs).
var createUserScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('SET', KEYS[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[1])
return 1
`)

// updateUserScript: KEYS user, new e-mail; ARGV id, e-mail key prefix,
// fields (pairs, CreatedAt excluded). Returns 1, 0 when the user is
// missing, -1 when the new e-mail belongs to another user.
var updateUserScript = redis.NewScript(`
local old = redis.call('HGET', KEYS[1], 'e')
if not old then return 0 end
local owner = redis.call('GET', KEYS[2])
if owner and owner ~= ARGV[1] then return -1 end
redis.call('DEL', ARGV[2] .. old)
redis.call('SET', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
return 1
`)

// passwordScript: KEYS user; ARGV old hash, new hash. Returns 1, 0 when
// the user is missing, -1 when its hash is not the old one.
var passwordScript = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], 'p')
if not cur then return 0 end
if cur ~= ARGV[1] then return -1 end
redis.call('HSET', KEYS[1], 'p', ARGV[2])
return 1
`)

// userByEmailScript: KEYS e-mail; ARGV user key prefix.
var userByEmailScript = redis.NewScript(`
local id = redis.call('GET', KEYS[1])
if not id then return {} end
return {id, redis.call('HGETALL', ARGV[1] .. id)}
`)

// userFields are the hash fields of u (CreatedAt apart).
func userFields(u *store.User) []any {
	roles := u.Roles
	if roles == nil {
		roles = []string{}
	}
	r, _ := json.Marshal(roles)
	return []any{"e", u.Email, "p", u.PasswordHash, "r", string(r), "d", flag(u.Disabled), "l", flag(u.Locked)}
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// CreateUser stores a new user; ErrConflict if the id or e-mail exists.
func (s *Store) CreateUser(ctx context.Context, u store.User) error {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	args := append([]any{u.ID}, userFields(&u)...)
	args = append(args, "c", u.CreatedAt.UTC().Format(time.RFC3339Nano))
	n, err := createUserScript.Run(ctx, s.c, []string{s.userKey(u.ID), s.emailPrefix() + u.Email, s.userIDsKey()}, args...).Int()
	if err != nil {
		return wrap("create user", err)
	}
	if n == 0 {
		return store.ErrConflict
	}
	return nil
}

// UserByEmail finds a user by e-mail (compared exactly), or ErrNotFound.
func (s *Store) UserByEmail(ctx context.Context, email string) (store.User, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return store.User{}, err
	}
	defer cancel()
	res, err := userByEmailScript.Run(ctx, s.c, []string{s.emailPrefix() + email}, s.userKey("")).Slice()
	if err != nil {
		return store.User{}, wrap("read user", err)
	}
	if len(res) != 2 {
		return store.User{}, store.ErrNotFound
	}
	id, _ := res[0].(string)
	pairs, _ := res[1].([]any)
	m := make(map[string]string, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		k, _ := pairs[i].(string)
		v, _ := pairs[i+1].(string)
		m[k] = v
	}
	return decodeUser(id, m)
}

// UserByID finds a user by id, or ErrNotFound.
func (s *Store) UserByID(ctx context.Context, id string) (store.User, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return store.User{}, err
	}
	defer cancel()
	m, err := s.c.HGetAll(ctx, s.userKey(id)).Result()
	if err != nil {
		return store.User{}, wrap("read user", err)
	}
	return decodeUser(id, m)
}

// decodeUser builds a user from its hash fields; an empty hash is ErrNotFound.
func decodeUser(id string, m map[string]string) (store.User, error) {
	if len(m) == 0 {
		return store.User{}, store.ErrNotFound
	}
	u := store.User{ID: id, Email: m["e"], PasswordHash: m["p"], Disabled: m["d"] == "1", Locked: m["l"] == "1"}
	if err := json.Unmarshal([]byte(m["r"]), &u.Roles); err != nil {
		return store.User{}, wrap("read user", err)
	}
	if u.Roles == nil {
		u.Roles = []string{}
	}
	t, err := time.Parse(time.RFC3339Nano, m["c"])
	if err != nil {
		return store.User{}, wrap("read user", err)
	}
	u.CreatedAt = t.UTC()
	return u, nil
}

// UpdateUser replaces the user's e-mail, password hash, roles and flags and
// keeps CreatedAt; ErrNotFound if absent, ErrConflict if the new e-mail
// belongs to another user.
func (s *Store) UpdateUser(ctx context.Context, u store.User) error {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	args := append([]any{u.ID, s.emailPrefix()}, userFields(&u)...)
	n, err := updateUserScript.Run(ctx, s.c, []string{s.userKey(u.ID), s.emailPrefix() + u.Email}, args...).Int()
	if err != nil {
		return wrap("update user", err)
	}
	return userCode(n)
}

// UpdatePasswordHash sets the user's password hash to newHash if it is
// still oldHash (compared byte for byte), touching no other field.
func (s *Store) UpdatePasswordHash(ctx context.Context, id, oldHash, newHash string) error {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	n, err := passwordScript.Run(ctx, s.c, []string{s.userKey(id)}, oldHash, newHash).Int()
	if err != nil {
		return wrap("update password hash", err)
	}
	if n == -1 {
		return store.ErrStale
	}
	return userCode(n)
}

// userCode maps a user script's answer to the contract's errors.
func userCode(n int) error {
	switch n {
	case 1:
		return nil
	case 0:
		return store.ErrNotFound
	case -1:
		return store.ErrConflict
	}
	return wrap("user script", errors.New("unexpected answer "+strconv.Itoa(n)))
}

// CountUsers returns the number of users.
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return 0, err
	}
	defer cancel()
	n, err := s.c.SCard(ctx, s.userIDsKey()).Result()
	return int(n), wrap("count users", err)
}
