#!/usr/bin/env python3
"""Checks the Kong Admin API emulator against the rules of Kong's source.

  test_rules.py [EMULATOR]

starts kong_emulator.py (beside this file, or EMULATOR) twice on loopback,
once with a database and once DB-less, sends the requests the kong plugin
makes (and the ones that must be refused), and prints one line per rule:
"ok - RULE" or "not ok - RULE: what differs". Each rule names the Kong
source file and function it was checked against; README.md lists them.
Exits 1 when a rule fails.

Python 3 standard library only.
"""

import hashlib
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
FAILED = []


class Node:
    """One emulator process and a client for it."""

    def __init__(self, program, *args):
        self.process = subprocess.Popen(
            [sys.executable, program, "--port", "0"] + list(args),
            stdout=subprocess.PIPE)
        port = self.process.stdout.readline().decode().strip()
        self.url = "http://127.0.0.1:%s" % port

    def call(self, method, path, body=None):
        """(status, parsed body or None, headers)."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data,
                                         method=method)
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw, status = response.read(), response.status
                headers = response.headers
        except urllib.error.HTTPError as e:
            raw, status, headers = e.read(), e.code, e.headers
        return status, json.loads(raw) if raw else None, headers

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=20)


def check(rule, condition, detail=""):
    if condition:
        print("ok - %s" % rule)
    else:
        FAILED.append(rule)
        print("not ok - %s: %s" % (rule, detail))


def refusal(answer, status, body):
    """Whether an answer is exactly this status and this JSON body."""
    return answer[0] == status and answer[1] == body


def shown(answer):
    return "HTTP %d %s" % (answer[0], json.dumps(answer[1], sort_keys=True))


SERVICE = "5a3b1b8e-0000-4000-8000-000000000001"
ROUTE = "5a3b1b8e-0000-4000-8000-000000000002"
UPSTREAM = "5a3b1b8e-0000-4000-8000-000000000003"
OTHER_UPSTREAM = "5a3b1b8e-0000-4000-8000-000000000004"
TARGET = "5a3b1b8e-0000-4000-8000-000000000005"
CONSUMER = "5a3b1b8e-0000-4000-8000-000000000006"
GROUP = "5a3b1b8e-0000-4000-8000-000000000007"
MISSING = "5a3b1b8e-0000-4000-8000-0000000000ff"


def node_rules(node):
    answer = node.call("GET", "/")
    check("GET / names the version and the database "
          "(kong/api/routes/kong.lua, GET /)",
          answer[0] == 200 and answer[1].get("version") and
          answer[1]["configuration"]["database"] == "postgres",
          shown(answer))
    answer = node.call("GET", "/status")
    check("GET /status says whether the database is reachable "
          "(kong/api/routes/kong.lua, GET /status)",
          answer[0] == 200 and answer[1]["database"]["reachable"] is True,
          shown(answer))
    answer = node.call("POST", "/config", {"_format_version": "3.0"})
    check("POST /config is refused with a database "
          "(kong/api/routes/config.lua)",
          refusal(answer, 400, {"message": "this endpoint is only "
                                "available when Kong is configured to not "
                                "use a database"}), shown(answer))


def put_rules(node):
    answer = node.call("PUT", "/services/" + SERVICE,
                       {"name": "svc", "host": "example.test",
                        "created_at": 1700000000})
    check("PUT /services/{id} creates an absent entity, 200 "
          "(kong/api/endpoints.lua put_entity_endpoint, "
          "kong/db/dao/init.lua DAO:upsert)",
          answer[0] == 200 and answer[1]["id"] == SERVICE, shown(answer))
    body = answer[1]
    check("defaults are filled in: retries 5, port 80, protocol http, "
          "timeouts 60000, enabled (kong/db/schema/entities/services.lua)",
          body and body["retries"] == 5 and body["port"] == 80 and
          body["protocol"] == "http" and body["read_timeout"] == 60000 and
          body["enabled"] is True, shown(answer))
    check("an archived created_at is kept, updated_at is set "
          "(kong/db/schema/init.lua process_auto_fields)",
          body and body["created_at"] == 1700000000 and
          body["updated_at"] >= 1700000000, shown(answer))
    answer = node.call("PUT", "/services/" + SERVICE,
                       {"name": "svc", "host": "other.test"})
    check("PUT replaces: a field left out returns to its default "
          "(kong/db/dao/init.lua DAO:upsert)",
          answer[0] == 200 and answer[1]["host"] == "other.test" and
          answer[1]["retries"] == 5, shown(answer))
    answer = node.call("PUT", "/services/" + MISSING,
                       {"name": "svc", "host": "x.test"})
    check("a unique field held by another id is refused, 409 "
          "(kong/db/errors.lua unique_violation)",
          refusal(answer, 409, {
              "code": 5, "name": "unique constraint violation",
              "message": "UNIQUE violation detected on '{name=\"svc\"}'",
              "fields": {"name": "svc"}}), shown(answer))
    answer = node.call("PUT", "/routes/" + ROUTE,
                       {"name": "r", "paths": ["/r"],
                        "service": {"id": MISSING}})
    check("a foreign key to nothing is refused, 400 "
          "(kong/db/errors.lua foreign_key_violation_invalid_reference)",
          refusal(answer, 400, {
              "code": 4, "name": "foreign key violation",
              "message": "the foreign key '{id=\"%s\"}' does not "
                         "reference an existing 'services' entity." % MISSING,
              "fields": {"service": {"id": MISSING}}}), shown(answer))
    answer = node.call("PUT", "/services/" + MISSING,
                       {"name": "svc2", "host": "x.test", "colour": "red"})
    check("an unknown field is refused, 400 "
          "(kong/db/errors.lua schema_violation)",
          refusal(answer, 400, {
              "code": 2, "name": "schema violation",
              "message": "schema violation (colour: unknown field)",
              "fields": {"colour": "unknown field"}}), shown(answer))
    answer = node.call("POST", "/services",
                       {"id": SERVICE, "name": "svc3", "host": "x.test"})
    check("POST of an id that exists is refused, 400 "
          "(kong/db/errors.lua primary_key_violation)",
          refusal(answer, 400, {
              "code": 3, "name": "primary key violation",
              "message": "primary key violation on key '{id=\"%s\"}'"
                         % SERVICE,
              "fields": {"id": SERVICE}}), shown(answer))
    node.call("PUT", "/routes/" + ROUTE,
              {"name": "r", "paths": ["/r"], "service": {"id": SERVICE}})
    answer = node.call("DELETE", "/services/" + SERVICE)
    check("a service its routes reference is not deleted, 400 "
          "(kong/db/errors.lua foreign_key_violation_restricted)",
          refusal(answer, 400, {
              "code": 4, "name": "foreign key violation",
              "message": "an existing 'routes' entity references this "
                         "'services' entity",
              "fields": {"@referenced_by": "routes"}}), shown(answer))


def page_rules(node):
    for i in range(3):
        node.call("POST", "/consumers", {"username": "page-%d" % i,
                                         "tags": ["paged"]})
    answer = node.call("GET", "/consumers?size=2")
    check("a page is `size` entities with an offset; next carries the "
          "offset and not the size (kong/api/endpoints.lua "
          "get_collection_endpoint)",
          answer[0] == 200 and len(answer[1]["data"]) == 2 and
          answer[1]["next"] == "/consumers?offset=" + answer[1]["offset"],
          shown(answer))
    answer = node.call("GET", "/consumers?size=2&tags=paged")
    check("next repeats the tags filter (kong/api/endpoints.lua "
          "get_collection_endpoint)",
          answer[0] == 200 and answer[1]["next"].endswith("&tags=paged"),
          shown(answer))
    answer = node.call("GET", "/consumers?size=1001")
    check("size above 1000 is refused, 400 (kong/db/dao/init.lua "
          "validate_size)",
          refusal(answer, 400, {
              "code": 9, "name": "invalid size",
              "message": "size must be an integer between 1 and 1000"}),
          shown(answer))
    answer = node.call("GET", "/consumers?size=many")
    check("a size that is no number is refused, 400 "
          "(kong/api/endpoints.lua get_page_size)",
          refusal(answer, 400, {"code": 9, "name": "invalid size",
                                "message": "size must be a number"}),
          shown(answer))
    answer = node.call("GET", "/consumers?offset=nonsense")
    check("an offset Kong did not make is refused, 400 "
          "(kong/db/errors.lua invalid_offset)",
          answer[0] == 400 and answer[1]["code"] == 7 and
          answer[1]["name"] == "invalid offset", shown(answer))
    answer = node.call("GET", "/targets")
    check("/targets has no collection of its own, 404 "
          "(kong/api/routes/targets.lua endpoints.disable)",
          refusal(answer, 404, {"message": "Not found"}), shown(answer))


def target_rules(node):
    node.call("PUT", "/upstreams/" + UPSTREAM, {"name": "up"})
    node.call("PUT", "/upstreams/" + OTHER_UPSTREAM, {"name": "other"})
    answer = node.call("PUT", "/upstreams/up/targets/" + TARGET,
                       {"target": "10.0.0.1:80"})
    check("PUT of a target the upstream lacks is 404, it only updates "
          "(kong/api/routes/upstreams.lua target_endpoint, "
          "update_target_cb)",
          refusal(answer, 404, {"message": "Not found"}), shown(answer))
    answer = node.call("PATCH", "/upstreams/up/targets/" + TARGET,
                       {"weight": 5})
    check("PATCH of a target the upstream lacks is 404 "
          "(kong/api/routes/upstreams.lua target_endpoint)",
          refusal(answer, 404, {"message": "Not found"}), shown(answer))
    answer = node.call("POST", "/upstreams/up/targets",
                       {"id": TARGET, "target": "backend.test",
                        "weight": 10, "created_at": 1700000000.5})
    check("POST creates a target with the id it is given, 201, host "
          "without port gets 8000 (kong/api/routes/upstreams.lua POST, "
          "kong/db/dao/targets.lua format_target)",
          answer[0] == 201 and answer[1]["id"] == TARGET and
          answer[1]["target"] == "backend.test:8000" and
          answer[1]["created_at"] == 1700000000.5 and
          answer[1]["upstream"] == {"id": UPSTREAM}, shown(answer))
    answer = node.call("POST", "/upstreams/up/targets",
                       {"target": "backend.test:8000", "weight": 20})
    check("POST of a host:port the upstream holds updates that target, "
          "200 with Deprecation: true (kong/api/routes/upstreams.lua "
          "update_existent_target)",
          answer[0] == 200 and answer[1]["id"] == TARGET and
          answer[1]["weight"] == 20 and
          answer[2].get("Deprecation") == "true", shown(answer))
    answer = node.call("PUT", "/upstreams/up/targets/" + TARGET,
                       {"weight": 30})
    check("PUT of an existing target updates the fields it is given, 200 "
          "(kong/api/routes/upstreams.lua update_target_cb, "
          "endpoints.update_entity)",
          answer[0] == 200 and answer[1]["weight"] == 30 and
          answer[1]["target"] == "backend.test:8000", shown(answer))
    answer = node.call("PUT", "/upstreams/up/targets/backend.test:8000",
                       {"weight": 40, "tags": ["t"]})
    check("a target is found by its host:port as well as by id "
          "(kong/db/dao/targets.lua select_by_upstream_filter)",
          answer[0] == 200 and answer[1]["id"] == TARGET and
          answer[1]["weight"] == 40, shown(answer))
    answer = node.call("GET", "/upstreams/other/targets/" + TARGET)
    check("a target under another upstream is 404 "
          "(kong/api/routes/upstreams.lua target_endpoint)",
          refusal(answer, 404, {"message": "Not found"}), shown(answer))
    answer = node.call("POST", "/upstreams/up/targets",
                       {"target": "[::1]:81"})
    check("an IPv6 target is expanded and bracketed "
          "(kong/tools/utils.lua normalize_ipv6, format_host)",
          answer[0] == 201 and answer[1]["target"] ==
          "[0000:0000:0000:0000:0000:0000:0000:0001]:81", shown(answer))
    answer = node.call("POST", "/upstreams/up/targets",
                       {"target": "not a host"})
    check("a target that is no host nor address is refused, 400 "
          "(kong/db/dao/targets.lua format_target)",
          refusal(answer, 400, {
              "code": 2, "name": "schema violation",
              "message": "schema violation (target: Invalid target; not "
                         "a valid hostname or ip address)",
              "fields": {"target": "Invalid target; not a valid hostname "
                                   "or ip address"}}), shown(answer))
    answer = node.call("POST", "/upstreams/up/targets",
                       {"target": "10.0.0.9:80", "weight": 70000})
    check("a weight above 65535 is refused, 400 "
          "(kong/db/schema/entities/targets.lua weight between)",
          refusal(answer, 400, {
              "code": 2, "name": "schema violation",
              "message": "schema violation (weight: value should be "
                         "between 0 and 65535)",
              "fields": {"weight": "value should be between 0 and "
                                   "65535"}}), shown(answer))
    answer = node.call("POST", "/upstreams/up/targets",
                       {"target": "10.0.0.10:80", "weight": 0})
    zero = answer[1]["id"]
    answer = node.call("GET", "/upstreams/up/targets/" + zero)
    check("GET of a target of weight 0 is 404 "
          "(kong/api/routes/upstreams.lua select_target_cb)",
          refusal(answer, 404, {"message": "Not found"}), shown(answer))
    answer = node.call("GET", "/upstreams/up/targets?size=2")
    check("targets are listed newest first, with a numeric offset "
          "(kong/db/dao/targets.lua page_for_upstream)",
          answer[0] == 200 and answer[1]["data"][0]["id"] == zero and
          answer[1]["offset"] == "2" and
          answer[1]["next"] == "/upstreams/up/targets?offset=2",
          shown(answer))
    answer = node.call("DELETE", "/upstreams/" + UPSTREAM)
    left = node.call("GET", "/upstreams/up/targets")
    check("deleting an upstream deletes its targets "
          "(kong/db/schema/entities/targets.lua on_delete cascade)",
          answer[0] == 204 and left[0] == 404, shown(answer))


def credential_rules(node):
    node.call("PUT", "/consumers/" + CONSUMER, {"username": "alice"})
    answer = node.call("POST", "/consumers/alice/basic-auth",
                       {"username": "alice", "password": "secret"})
    want = hashlib.sha1(("secret" + CONSUMER).encode()).hexdigest()
    check("a basic-auth password is stored as sha1(password .. consumer "
          "id) (kong/plugins/basic-auth/crypto.lua hash)",
          answer[0] == 201 and answer[1]["password"] == want, shown(answer))
    answer = node.call("PUT", "/basic-auths/" + answer[1]["id"],
                       {"username": "alice", "password": want,
                        "consumer": {"id": CONSUMER}})
    check("a password hash written back is hashed again "
          "(kong/plugins/basic-auth/daos.lua transformations)",
          answer[0] == 200 and answer[1]["password"] != want, shown(answer))
    answer = node.call("POST", "/consumers/alice/oauth2",
                       {"name": "app", "client_id": "app-1",
                        "client_secret": "s3cret", "hash_secret": True})
    hashed = answer[1]["client_secret"] if answer[1] else ""
    check("an OAuth2 client_secret of hash_secret: true is stored as a "
          "PBKDF2 hash (kong/plugins/oauth2/daos.lua transformations, "
          "kong/plugins/oauth2/secret.lua)",
          answer[0] == 201 and
          hashed.startswith("$pbkdf2-sha512$i=10000,l=32$"), shown(answer))
    credential = answer[1]["id"] if answer[1] else MISSING
    again = node.call("PUT", "/oauth2/" + credential,
                      {"name": "app", "client_id": "app-1",
                       "client_secret": hashed, "hash_secret": True,
                       "consumer": {"id": CONSUMER}})
    check("an OAuth2 secret hash written back is hashed again, with a new "
          "salt (kong/plugins/oauth2/daos.lua transformations)",
          again[0] == 200 and again[1]["client_secret"] != hashed and
          again[1]["client_secret"].startswith("$pbkdf2-sha512$"),
          shown(again))
    kept = again[1]["client_secret"] if again[1] else ""
    answer = node.call("PATCH", "/oauth2/" + credential, {"name": "app 2"})
    check("a PATCH without client_secret nor hash_secret leaves the hash "
          "alone (kong/plugins/oauth2/daos.lua: hash_secret is the "
          "transformation's input)",
          answer[0] == 200 and answer[1]["client_secret"] == kept,
          shown(answer))
    answer = node.call("POST", "/consumers/alice/oauth2",
                       {"name": "plain", "client_id": "app-2",
                        "client_secret": "plain"})
    check("an OAuth2 client_secret without hash_secret is kept as given "
          "(kong/plugins/oauth2/daos.lua)",
          answer[0] == 201 and answer[1]["client_secret"] == "plain" and
          answer[1]["hash_secret"] is False, shown(answer))
    node.call("PUT", "/consumer_groups/" + GROUP, {"name": "gold"})
    answer = node.call("POST", "/consumer_groups/gold/consumers",
                       {"consumer": CONSUMER})
    check("a membership is created by POST to the group's consumers, 201 "
          "(kong/api/routes/consumer_groups.lua POST)",
          answer[0] == 201, shown(answer))
    answer = node.call("POST", "/consumer_groups/gold/consumers",
                       {"consumer": CONSUMER})
    check("a membership that exists is refused, 409 "
          "(kong/api/routes/consumer_groups.lua POST)",
          refusal(answer, 409, {"message": "Consumer '%s' already in "
                                "group '%s'" % (CONSUMER, GROUP)}),
          shown(answer))
    answer = node.call("POST", "/consumer_groups/gold/consumers",
                       {"consumer": MISSING})
    check("a membership of a consumer that does not exist is refused, "
          "404 (kong/api/routes/consumer_groups.lua POST)",
          refusal(answer, 404, {"message": "Consumer '%s' not found"
                                % MISSING}), shown(answer))


def dbless_rules(node):
    answer = node.call("PUT", "/services/" + SERVICE,
                       {"name": "svc", "host": "example.test"})
    check("DB-less: entity writes are refused, 405 "
          "(kong/db/errors.lua operation_unsupported)",
          refusal(answer, 405, {
              "code": 12, "name": "operation unsupported",
              "message": "cannot create 'services' entities when not "
                         "using a database"}), shown(answer))
    answer = node.call("GET", "/")
    check("DB-less: GET / says database off (kong/api/routes/kong.lua)",
          answer[0] == 200 and
          answer[1]["configuration"]["database"] == "off", shown(answer))


def main():
    program = sys.argv[1] if len(sys.argv) > 1 else \
        os.path.join(HERE, "kong_emulator.py")
    nodes = []
    try:
        node = Node(program)
        nodes.append(node)
        node_rules(node)
        put_rules(node)
        page_rules(node)
        target_rules(node)
        credential_rules(node)
        dbless = Node(program, "--dbless")
        nodes.append(dbless)
        dbless_rules(dbless)
    finally:
        for node in nodes:
            node.stop()
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
