#!/bin/bash
# The kong plugin through the cairn binary, against the Kong 3.x Admin API
# emulator (tests/kong-emulator) on loopback: the payment platform's
# gateway (16 services on 40001-40016, routes, global and scoped plugins,
# consumers with every kind of credential, consumer groups and their
# members, certificates with SNIs, CA certificates, an upstream with
# targets) backed up and restored into an empty gateway with the same
# entities, ids, fields and memberships; a second restore that changes
# nothing; --dry-run; extra entities left alone, then removed with --force;
# a lost and an extra membership; --only consumer_groups; a gateway of
# ~6,500 entities (several pages of every big kind, a group of 1,600
# members); a wrong token; the Admin API down; the connection cut in the
# middle of a page; DB-less nodes (GET and POST /config); check and drill.
#
# Environment: CAIRN, CAIRN_PLUGIN_DIR (see lib.sh); CAIRN_WRAPPER runs in
# front of cairn when set; KONG_TEST_SCALE changes the size of the big
# gateway (consumers with a key-auth credential, an ACL and a membership
# each).

. "$(dirname "$0")/lib.sh"

setup_scratch kong
here=$(cd "$(dirname "$0")" && pwd)
emulator=$here/../kong-emulator/kong_emulator.py
kong_tool=$here/../kong-emulator/kong_tool.py
scale=${KONG_TEST_SCALE:-1600}
conf=$SCRATCH/cairn.conf
token=payment-admin-token

cairn() { ${CAIRN_WRAPPER:-} "$CAIRN" -c "$conf" "$@"; }

tool() { python3 "$kong_tool" "$@" --token "$token"; }

# same_gateway DESCRIPTION URL1 URL2 [--skip KIND]...
same_gateway() {
	local description=$1 a=$2 b=$3
	shift 3
	tool dump "$a" "$@" >"$SCRATCH/dump.a" &&
		tool dump "$b" "$@" >"$SCRATCH/dump.b"
	if [ -s "$SCRATCH/dump.a" ] && cmp -s "$SCRATCH/dump.a" "$SCRATCH/dump.b"; then
		ok "$description"
	else
		not_ok "$description"
		diff "$SCRATCH/dump.a" "$SCRATCH/dump.b" | head -n 20 | sed 's/^/# /'
	fi
}

# entities URL: how many entities the gateway holds.
entities() { tool count "$1"; }

# writes NAME: how many requests that change something node NAME has
# answered (its --verbose log names each request).
writes() {
	grep -cE '"(POST|PUT|PATCH|DELETE) ' "$SCRATCH/$1.log"
}

# ---- the emulator against Kong's source ----------------------------------
python3 "$here/../kong-emulator/test_rules.py" "$emulator" >"$SCRATCH/rules.out" 2>&1
while IFS= read -r line; do
	case $line in
	"ok - "*) ok "emulator: ${line#ok - }" ;;
	"not ok - "*) not_ok "emulator: ${line#not ok - }" ;;
	*) echo "# $line" ;;
	esac
done <"$SCRATCH/rules.out"
grep -q '^ok - ' "$SCRATCH/rules.out" || not_ok "the emulator rules ran"

start_kong source --token "$token"
source_url=$KONG_URL
tool seed "$source_url" || not_ok "seed the platform's gateway"
# Requests a seeding takes (the count includes this GET /status).
seed_requests=$(($(tool requests "$source_url") - 1))
ok "seed the platform's gateway: $(entities "$source_url") entities in $seed_requests requests"
start_kong big --token "$token"
big_url=$KONG_URL
tool seed "$big_url" --scale "$scale" &&
	ok "seed a big gateway: $(entities "$big_url") entities" ||
	not_ok "seed a big gateway"
start_kong target --token "$token" --verbose
target_url=$KONG_URL
start_kong scratch --token "$token"
scratch_url=$KONG_URL
start_kong dbless --token "$token" --dbless
dbless_url=$KONG_URL
# Cuts the response to the 4th request of a backup: GET /, then pages.
start_kong dropping --token "$token" --fail-after $((seed_requests + 3))
dropping_url=$KONG_URL
tool seed "$dropping_url"
# OAuth2 credentials: one whose secret Kong hashes, one kept as given.
start_kong hashed --token "$token"
hashed_url=$KONG_URL
tool post "$hashed_url" /consumers '{"username":"app"}' >/dev/null
tool post "$hashed_url" /consumers/app/oauth2 \
	'{"name":"hashed","client_id":"app-hashed","client_secret":"s3cret","hash_secret":true}' >/dev/null
tool post "$hashed_url" /consumers/app/oauth2 \
	'{"name":"plain","client_id":"app-plain","client_secret":"plain"}' >/dev/null
down_port=$(free_port)

mkdir -p "$SCRATCH/secrets"
printf '%s\n' "$token" >"$SCRATCH/secrets/kong-token"
printf 'not-the-token\n' >"$SCRATCH/secrets/wrong"
chmod 600 "$SCRATCH/secrets/"*

cat >"$conf" <<EOF
[repository]
path = $SCRATCH/repo

[gateway]
plugin = kong
admin-url = $source_url
token-file = $SCRATCH/secrets/kong-token
timeout = 20
drill-target = $scratch_url

[gateway-big]
plugin = kong
admin-url = $big_url
token-file = $SCRATCH/secrets/kong-token

[gateway-dbless]
plugin = kong
admin-url = $dbless_url
token-file = $SCRATCH/secrets/kong-token

[gateway-hashed]
plugin = kong
admin-url = $hashed_url
token-file = $SCRATCH/secrets/kong-token

[wrong-token]
plugin = kong
admin-url = $source_url
token-file = $SCRATCH/secrets/wrong

[down]
plugin = kong
admin-url = http://127.0.0.1:$down_port
timeout = 5

[dropping]
plugin = kong
admin-url = $dropping_url
token-file = $SCRATCH/secrets/kong-token
EOF
chmod 600 "$conf"

# ---- the platform's gateway ----------------------------------------------
expect "back up the gateway" cairn backup gateway
cairn --json show gateway:latest >"$SCRATCH/show.json" 2>/dev/null
grep -qE '"kong.count.services": *"16"' "$SCRATCH/show.json" &&
	grep -qE '"kong.version": *"3\.' "$SCRATCH/show.json" &&
	ok "the manifest records Kong's version and 16 services" ||
	not_ok "the manifest records Kong's version and 16 services"
grep -qE '"kong.count.consumer_group_consumers": *"4"' "$SCRATCH/show.json" &&
	ok "the manifest counts 4 consumer group memberships" ||
	not_ok "the manifest counts 4 consumer group memberships"
cairn cat gateway:latest kong.json >"$SCRATCH/kong.json" 2>/dev/null
python3 - "$SCRATCH/kong.json" <<'EOF' && ok "kong.json is a 3.0 declarative configuration with nested children" || not_ok "kong.json is a 3.0 declarative configuration"
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["_format_version"] == "3.0" and doc["_transform"] is False
assert len(doc["services"]) == 16
assert all(len(s["routes"]) == 2 for s in doc["services"])
assert sorted(s["port"] for s in doc["services"]) == list(range(40001, 40017))
assert "snis" not in doc and "targets" not in doc
assert len(doc["upstreams"][0]["targets"]) == 3
assert sum(len(c.get("snis", [])) for c in doc["certificates"]) == 3
# Memberships as `kong config db_export` writes them: id pairs.
groups = {g["id"] for g in doc["consumer_groups"]}
consumers = {c["id"] for c in doc["consumers"]}
members = doc["consumer_group_consumers"]
assert len(members) == 4
assert all(sorted(m) == ["consumer", "consumer_group"] for m in members)
assert all(m["consumer_group"] in groups and m["consumer"] in consumers
           for m in members)
EOF
grep -q 'sekret\|payment-admin-token' "$SCRATCH/show.json" &&
	not_ok "the token appears in the manifest" || ok "the token is not in the manifest"

expect_exit 64 "restore into the job's own Admin API needs --force" \
	cairn restore gateway:latest
expect_stderr "--force" "the refusal says to use --force"

expect "dry run into an empty gateway" cairn -v restore gateway:latest --to "$target_url" --dry-run
expect_stderr "services: 16 to create" "the dry run lists what it would create"
expect_stderr "consumer_group_consumers: 4 to create" "memberships included"
[ "$(entities "$target_url")" = 0 ] && ok "the dry run changed nothing" ||
	not_ok "the dry run changed the target"

before=$(writes target)
expect "restore into an empty gateway" cairn -v restore gateway:latest --to "$target_url"
expect_stderr "basicauth_credentials 'ops-admin' .* not restored" \
	"basic-auth credentials are named as not restorable through the Admin API"
expect_stderr "targets: 3 created" "the upstream's 3 targets are created"
same_gateway "same entities, ids and fields after the restore" "$source_url" "$target_url" \
	--skip basicauth_credentials
# Every entity of every kind but the 2 basic-auth credentials: one write each.
want=$(($(entities "$source_url") - 2))
[ "$(($(writes target) - before))" = "$want" ] &&
	ok "one write per restored entity ($want)" ||
	not_ok "one write per restored entity: $(($(writes target) - before)) writes for $want entities"
before=$(writes target)
expect "restore a second time" cairn -v restore gateway:latest --to "$target_url"
expect_stderr ": 0 created, 0 updated, [0-9]+ unchanged, 0 extra" "the second restore changes nothing"
expect_stderr "consumer_group_consumers: 0 created, 0 updated, 4 unchanged" \
	"the memberships are unchanged"
expect_stderr "targets: 0 created, 0 updated, 3 unchanged" "the targets are unchanged"
[ "$(writes target)" = "$before" ] && ok "the second restore sends no write" ||
	not_ok "the second restore sent $(($(writes target) - before)) writes"
same_gateway "still the same gateway" "$source_url" "$target_url" --skip basicauth_credentials

# A connection cut in the middle of a restore: the 107th request into an
# empty gateway (19 reads, 86 writes of the kinds before targets, then
# the second target's POST), answered by half a body. Running the same
# restore again completes it.
start_kong cut --token "$token" --fail-after 106
cut_url=$KONG_URL
expect_exit 1 "a restore whose connection is cut fails" \
	cairn restore gateway:latest --to "$cut_url"
expect_stderr "cannot restore targets '.*' (.*): cannot reach '$cut_url/upstreams/" \
	"the message names the target and the URL"
expect "the same restore again completes it" cairn -v restore gateway:latest --to "$cut_url"
expect_stderr "targets: 1 created, 0 updated, 2 unchanged" "only the missing target is created"
same_gateway "the gateway is whole after the cut" "$source_url" "$cut_url" --skip basicauth_credentials

# ---- targets: PUT only updates them, POST creates them -------------------
upstream=$(tool dump "$target_url" | python3 -c 'import json, sys
print(json.load(sys.stdin)["upstreams"][0]["id"])')
first_target=$(tool dump "$target_url" | python3 -c 'import json, sys
t = sorted(json.load(sys.stdin)["targets"], key=lambda t: t["target"])[0]
print(t["id"], t["target"])')
tool call "$target_url" PATCH "/upstreams/$upstream/targets/${first_target%% *}" '{"weight":7}'
before=$(writes target)
expect "restore with a target changed in the target" \
	cairn -v restore gateway:latest --to "$target_url"
expect_stderr "targets: 0 created, 1 updated, 2 unchanged" "the changed target is updated"
[ "$(($(writes target) - before))" = 1 ] && ok "with one write" ||
	not_ok "the changed target took $(($(writes target) - before)) writes"
same_gateway "the target is as archived again" "$source_url" "$target_url" --skip basicauth_credentials
# The same host:port under another id: Kong's POST would update that one.
tool delete "$target_url" "/upstreams/$upstream/targets/${first_target%% *}"
tool post "$target_url" "/upstreams/$upstream/targets" "{\"target\":\"${first_target#* }\"}" >/dev/null
expect "restore with a target's host:port held under another id" \
	cairn -v restore gateway:latest --to "$target_url"
expect_stderr "targets '${first_target#* }' .* not restored: the target holds the same target under another id" \
	"that target is skipped and named"
expect "then with --force" cairn -v restore gateway:latest --to "$target_url" --force
same_gateway "--force replaced it with the archived target" "$source_url" "$target_url" \
	--skip basicauth_credentials

# ---- memberships -----------------------------------------------------------
members() {
	tool dump "$1" | python3 -c 'import json, sys
print(len(json.load(sys.stdin).get("consumer_group_consumers", [])))'
}
tool delete "$target_url" /consumer_groups/gold/consumers/partner-acme
tool post "$target_url" /consumer_groups/bronze/consumers '{"consumer":"ops-admin"}' >/dev/null
expect "dry run with a lost and an extra membership" \
	cairn -v restore gateway:latest --to "$target_url" --only consumer_groups --dry-run
expect_stderr "consumer_group_consumers: 1 to create, 0 to update, 3 unchanged, 1 extra" \
	"the dry run lists them"
[ "$(members "$target_url")" = 4 ] && ok "and changes nothing" || not_ok "the dry run changed memberships"
expect "restore --only consumer_groups" \
	cairn -v restore gateway:latest --to "$target_url" --only consumer_groups
expect_stderr "extra in the target: consumer_group_consumers" "the extra membership is listed"
[ "$(members "$target_url")" = 5 ] && ok "the lost one is back, the extra one left alone" ||
	not_ok "the lost membership is back, the extra one left alone"
expect "restore --only consumer_groups --force" \
	cairn restore gateway:latest --to "$target_url" --only consumer_groups --force
same_gateway "the same memberships after --force" "$source_url" "$target_url" --skip basicauth_credentials
start_kong groups-only --token "$token"
groups_url=$KONG_URL
expect "restore --only consumer_groups into an empty gateway" \
	cairn -v restore gateway:latest --to "$groups_url" --only consumer_groups
expect_stderr "not restored: the target has no consumer '" \
	"memberships of consumers the target lacks are skipped and named"
expect "then the rest" cairn restore gateway:latest --to "$groups_url"
same_gateway "the gateway is whole" "$source_url" "$groups_url" --skip basicauth_credentials

tool post "$target_url" /services '{"name":"stray-service","host":"stray"}' >/dev/null
expect "restore with an extra service in the target" cairn -v restore gateway:latest --to "$target_url"
expect_stderr "extra in the target: services 'stray-service'" "the extra service is listed"
tool dump "$target_url" | grep -q stray-service && ok "and left alone" || not_ok "the extra service was removed"
expect "restore with --force" cairn -v restore gateway:latest --to "$target_url" --force
tool dump "$target_url" | grep -q stray-service && not_ok "--force left the extra service" ||
	ok "--force removed the extra service"
expect "restore --only routes" cairn restore gateway:latest --to "$target_url" --only routes
expect_exit 1 "restore --only an unknown kind" cairn restore gateway:latest --to "$target_url" --only widgets
expect_stderr "widgets" "the message names the unknown kind"

# ---- secrets Kong stores hashed -------------------------------------------
secret_of() {
	tool dump "$1" | python3 -c 'import json, sys
for c in json.load(sys.stdin).get("oauth2_credentials", []):
    if c["name"] == sys.argv[1]:
        print(c["client_secret"])' "$2"
}
expect "back up a gateway with a hashed OAuth2 secret" cairn backup gateway-hashed
start_kong hashed-target --token "$token" --verbose
hashed_target=$KONG_URL
expect "restore it into an empty gateway" cairn -v restore gateway-hashed:latest --to "$hashed_target"
expect_stderr "oauth2_credentials 'hashed' .* not restored: Kong stores the client_secret of OAuth2 credentials with hash_secret hashed" \
	"the credential whose secret Kong would hash again is named"
[ -z "$(secret_of "$hashed_target" hashed)" ] &&
	[ "$(secret_of "$hashed_target" plain)" = plain ] &&
	ok "it is not written; the plain one is restored as it was" ||
	not_ok "the hashed credential was written or the plain one lost"
archived_hash=$(secret_of "$hashed_url" hashed)
tool call "$hashed_url" PATCH "/oauth2/app-hashed" '{"name":"renamed"}'
expect "restore into the source, where the hash matches, with --force" \
	cairn -v restore gateway-hashed:latest --force
expect_stderr "oauth2_credentials: 0 created, 1 updated, 1 unchanged" \
	"the renamed credential is updated"
[ "$(secret_of "$hashed_url" hashed)" = "$archived_hash" ] &&
	[ "$(tool dump "$hashed_url" | grep -c '"renamed"')" = 0 ] &&
	ok "by a PATCH that leaves its hash as archived" ||
	not_ok "the hash changed or the name did not come back"

# ---- DB-less -------------------------------------------------------------
expect "restore into a DB-less node (POST /config)" cairn restore gateway:latest --to "$dbless_url"
same_gateway "the DB-less node holds the same gateway, basic-auth hashes included" \
	"$source_url" "$dbless_url"
expect "back up the DB-less node" cairn backup gateway-dbless
cairn --json show gateway-dbless:latest >"$SCRATCH/show-dbless.json" 2>/dev/null
grep -qE '"kong.mode": *"dbless"' "$SCRATCH/show-dbless.json" &&
	grep -q 'kong-config.yaml' "$SCRATCH/show-dbless.json" &&
	ok "the DB-less archive says so and keeps Kong's own export" ||
	not_ok "the DB-less archive says so and keeps Kong's own export"
start_kong fresh --token "$token"
fresh_url=$KONG_URL
expect "restore the DB-less archive into a database-backed node" \
	cairn restore gateway-dbless:latest --to "$fresh_url"
same_gateway "the same gateway again" "$source_url" "$fresh_url" --skip basicauth_credentials
expect_exit 1 "--only into a DB-less node is refused" \
	cairn restore gateway:latest --to "$dbless_url" --only services

# ---- thousands of entities -----------------------------------------------
expect "back up the big gateway" cairn backup gateway-big
cairn --json show gateway-big:latest >"$SCRATCH/show-big.json" 2>/dev/null
want=$(entities "$big_url")
grep -qE "\"kong.entities\": *\"$want\"" "$SCRATCH/show-big.json" &&
	ok "all $want entities were read, page after page" ||
	not_ok "the big backup counts $want entities"
grep -qE "\"kong.count.consumer_group_consumers\": *\"$((scale + 4))\"" \
	"$SCRATCH/show-big.json" &&
	ok "and $((scale + 4)) memberships" ||
	not_ok "the big backup counts $((scale + 4)) memberships"
start_kong big-target --token "$token"
big_target=$KONG_URL
expect "restore the big gateway" cairn restore gateway-big:latest --to "$big_target"
same_gateway "the big gateway round-trips" "$big_url" "$big_target" --skip basicauth_credentials
expect "restore the big gateway again" cairn -v restore gateway-big:latest --to "$big_target"
expect_stderr ": 0 created, 0 updated, [0-9]+ unchanged, 0 extra" "nothing changes the second time"

# ---- failures --------------------------------------------------------------
expect_exit 1 "a wrong token fails the job" cairn backup wrong-token
expect_stderr "'$source_url/' answered HTTP 401: Invalid RBAC credentials" \
	"the message names the URL and Kong's message"
expect_exit 1 "the Admin API down fails the job" cairn backup down
expect_stderr "cannot reach 'http://127.0.0.1:$down_port/'" "the message names the URL"
expect_exit 1 "a connection cut in the middle of a page fails the job" cairn backup dropping
expect_stderr "cannot reach '$dropping_url/" "the message names the URL of the page"

# ---- check, drill, verify ------------------------------------------------------
expect "check the gateway" cairn check gateway
grep -q "kong.version" "$SCRATCH/last.out" "$SCRATCH/last.err" &&
	ok "check reports Kong's version" || not_ok "check reports Kong's version"
expect "drill the gateway into a scratch Admin API" cairn drill gateway
same_gateway "the drill target holds the archive" "$source_url" "$scratch_url" \
	--skip basicauth_credentials
expect "verify every archive" cairn verify

finish
