#!/usr/bin/env python3
"""An emulator of Kong 3.x's Admin API, for cairn's kong plugin tests.

Kong cannot be installed on the test hosts, so this program serves the
parts of its Admin API that a backup and restore tool relies on, behaving
as Kong's own source describes them (kong/api/endpoints.lua,
kong/db/errors.lua, kong/db/schema/entities/*.lua, kong/db/declarative/):

  - an in-memory database of the entities of Kong 3.x (services, routes,
    consumers, consumer groups, plugins, certificates, CA certificates,
    SNIs, upstreams, targets, vaults, key sets, keys and the credentials
    of the bundled auth plugins), with primary keys generated when absent,
    created_at/updated_at, defaults filled in, unique fields, foreign keys
    given as {"id": ...} (or the parent's endpoint key) and checked, ON
    DELETE cascade or restrict, tags and ?tags= filtering;
  - collections paginated with `size` (default 100, 1 to 1000) and an
    opaque `offset`, with a `next` link; nested collections such as
    /services/{id or name}/routes and /upstreams/{id}/targets;
  - POST, GET, PUT (upsert by id or endpoint key), PATCH and DELETE, with
    Kong's error bodies {"message", "name", "fields", "code"} and status
    codes (400, 404, 405, 409);
  - consumer group memberships (consumer_group_consumers, no Admin API
    collection of their own, primary key {consumer_group, consumer}):
    POST /consumer_groups/{id or name}/consumers with {"consumer": id or
    username, or a list of them}, GET of it paginated (the consumers;
    before 3.4 in one {"consumers": [...]} answer),
    DELETE /consumer_groups/{group}/consumers[/{consumer}], and the same
    from the other side under /consumers/{id or username}/consumer_groups;
    removed with either side (ON DELETE CASCADE); in DB-less /config as a
    top-level `consumer_group_consumers` list, as `kong config db_export`
    writes it;
  - basic-auth passwords stored as Kong stores them, sha1(password +
    consumer id) in hex, so they come back hashed, and OAuth2 client
    secrets of hash_secret: true as PBKDF2 hashes;
  - DB-less mode (--dbless): read-only entity endpoints, GET /config (a
    YAML export, like Kong's) and POST /config (a JSON declarative
    configuration, flat or nested, honouring _transform);
  - Kong-Admin-Token authentication (--token), GET / and GET /status;
  - JSON written like lua-cjson writes it, with "/" escaped as "\\/".

README.md lists each rule with the Kong source file it follows, and
test_rules.py checks them one by one.

--fail-after N cuts the connection in the middle of the response to
request N+1 (once), for fault tests. The port is printed on stdout once
the server listens; SIGTERM stops it.

Python 3 standard library only.
"""

import argparse
import base64
import copy
import hashlib
import ipaddress
import json
import os
import re
import secrets
import signal
import socket
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, unquote, urlsplit

UUID_RE = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# Kong's tag filter syntax: a,b (all of them) or a/b (any of them).
TAG_BYTES = r"[\x20-\x2B\x2D\x2E\x30-\x7E\x80-\U0010FFFF]"
TAGS_AND_RE = re.compile(r"^(" + TAG_BYTES + r"+(?:,|$))+$")
TAGS_OR_RE = re.compile(r"^(" + TAG_BYTES + r"+(?:/|$))+$")
# Namespace of the ids Kong generates for declarative entities (uuid v5).
DECLARATIVE_NS = uuid.UUID("fd02801f-0957-4a15-a55a-c8d9606f30b5")

BUNDLED_PLUGINS = [
    "acl", "acme", "ai-proxy", "aws-lambda", "azure-functions",
    "basic-auth", "bot-detection", "correlation-id", "cors",
    "datadog", "file-log", "grpc-gateway", "grpc-web", "hmac-auth",
    "http-log", "ip-restriction", "jwt", "key-auth", "ldap-auth",
    "loggly", "oauth2", "opentelemetry", "post-function",
    "pre-function", "prometheus", "proxy-cache", "rate-limiting",
    "request-size-limiting", "request-termination",
    "request-transformer", "response-ratelimiting",
    "response-transformer", "session", "statsd", "syslog",
    "tcp-log", "udp-log", "zipkin", "mtls-auth",
]

HEALTHCHECKS_DEFAULT = {
    "active": {
        "type": "http", "timeout": 1, "concurrency": 10,
        "http_path": "/", "https_verify_certificate": True,
        "https_sni": None, "headers": None,
        "healthy": {"interval": 0, "http_statuses": [200, 302],
                    "successes": 0},
        "unhealthy": {"interval": 0,
                      "http_statuses": [429, 404, 500, 501, 502, 503,
                                        504, 505],
                      "tcp_failures": 0, "timeouts": 0,
                      "http_failures": 0},
    },
    "passive": {
        "type": "http",
        "healthy": {"http_statuses": [200, 201, 202, 203, 204, 205, 206,
                                      207, 208, 226, 300, 301, 302, 303,
                                      304, 305, 306, 307, 308],
                    "successes": 0},
        "unhealthy": {"http_statuses": [429, 500, 503], "tcp_failures": 0,
                      "timeouts": 0, "http_failures": 0},
    },
    "threshold": 0,
}


def random_key():
    return secrets.token_hex(16)


class Kind:
    """The schema of one entity kind, reduced to what the emulator models.

    fields maps each field to its default (a value, copied, or a callable);
    integers names the fields that must be integers; foreign maps a field
    to (parent kind, required, on_delete); unique lists fields unique when
    set; together lists tuples of fields unique as a whole (cache keys);
    ranges maps an integer field to its `between` limits.
    """

    def __init__(self, name, path, fields, required=(), integers=(),
                 foreign=None, unique=(), together=(), endpoint_key=None,
                 timestamps=("created_at", "updated_at"), float_time=False,
                 check=None, ranges=None):
        self.name = name
        self.path = path
        self.fields = fields
        self.required = required
        self.integers = integers
        self.foreign = foreign or {}
        self.unique = unique
        self.together = together
        self.endpoint_key = endpoint_key
        self.timestamps = timestamps
        self.float_time = float_time
        self.check = check
        self.ranges = ranges or {}


def check_route(entity):
    protocols = entity.get("protocols") or []
    if any(p in ("http", "https") for p in protocols):
        if not any(entity.get(f) for f in
                   ("methods", "hosts", "headers", "paths", "snis")):
            return {"@entity": ["must set one of 'methods', 'hosts', "
                                "'headers', 'paths', 'snis' when "
                                "'protocols' is 'http' or 'https'"]}
    return None


def check_consumer(entity):
    if entity.get("username") is None and entity.get("custom_id") is None:
        return {"@entity": ["at least one of these fields must be "
                            "non-empty: 'custom_id', 'username'"]}
    return None


def check_key(entity):
    if entity.get("jwk") is None and entity.get("pem") is None:
        return {"@entity": ["at least one of these fields must be "
                            "non-empty: 'jwk', 'pem'"]}
    return None


def check_plugin(entity):
    if entity.get("name") not in BUNDLED_PLUGINS:
        return {"name": "plugin '%s' not enabled; add it to the 'plugins' "
                        "configuration property" % entity.get("name")}
    if not isinstance(entity.get("config"), dict):
        return {"config": "expected a record"}
    return None


def check_vault(entity):
    if entity.get("name") not in ("env", "aws", "gcp", "hcv", "azure",
                                  "conjur"):
        return {"name": "vault '%s' is not installed" % entity.get("name")}
    return None


CONSUMER_FK = {"consumer": ("consumers", True, "cascade")}

KINDS = [
    Kind("certificates", "certificates",
         {"cert": None, "key": None, "cert_alt": None, "key_alt": None,
          "tags": None},
         required=("cert", "key")),
    Kind("ca_certificates", "ca_certificates",
         {"cert": None, "cert_digest": None, "tags": None},
         required=("cert",), unique=("cert_digest",)),
    Kind("consumers", "consumers",
         {"username": None, "custom_id": None, "tags": None},
         unique=("username", "custom_id"), endpoint_key="username",
         check=check_consumer),
    Kind("consumer_groups", "consumer_groups",
         {"name": None, "tags": None},
         required=("name",), unique=("name",), endpoint_key="name"),
    # Memberships: Kong's schema has no id (the primary key is the pair);
    # the emulator keys its rows with one it never shows.
    Kind("consumer_group_consumers", "consumer_group_consumers",
         {"consumer_group": None, "consumer": None},
         required=("consumer_group", "consumer"),
         foreign={"consumer_group": ("consumer_groups", True, "cascade"),
                  "consumer": ("consumers", True, "cascade")},
         together=(("consumer_group", "consumer"),),
         timestamps=("created_at",)),
    Kind("vaults", "vaults",
         {"name": None, "prefix": None, "description": None,
          "config": lambda: {}, "tags": None},
         required=("name", "prefix"), unique=("prefix",),
         endpoint_key="prefix", check=check_vault),
    Kind("key_sets", "key-sets", {"name": None, "tags": None},
         unique=("name",), endpoint_key="name"),
    Kind("snis", "snis", {"name": None, "certificate": None, "tags": None},
         required=("name", "certificate"), unique=("name",),
         foreign={"certificate": ("certificates", True, "cascade")},
         endpoint_key="name"),
    Kind("services", "services",
         {"name": None, "retries": 5, "protocol": "http", "host": None,
          "port": 80, "path": None, "connect_timeout": 60000,
          "write_timeout": 60000, "read_timeout": 60000, "tags": None,
          "client_certificate": None, "tls_verify": None,
          "tls_verify_depth": None, "ca_certificates": None,
          "enabled": True},
         required=("host",),
         integers=("retries", "port", "connect_timeout", "write_timeout",
                   "read_timeout"),
         foreign={"client_certificate": ("certificates", False,
                                         "restrict")},
         unique=("name",), endpoint_key="name"),
    Kind("upstreams", "upstreams",
         {"name": None, "algorithm": "round-robin", "hash_on": "none",
          "hash_fallback": "none", "hash_on_header": None,
          "hash_fallback_header": None, "hash_on_cookie": None,
          "hash_on_cookie_path": "/", "hash_on_query_arg": None,
          "hash_fallback_query_arg": None, "hash_on_uri_capture": None,
          "hash_fallback_uri_capture": None, "slots": 10000,
          "healthchecks": lambda: copy.deepcopy(HEALTHCHECKS_DEFAULT),
          "tags": None, "host_header": None, "client_certificate": None,
          "use_srv_name": False},
         required=("name",), integers=("slots",),
         foreign={"client_certificate": ("certificates", False,
                                         "restrict")},
         unique=("name",), endpoint_key="name"),
    Kind("keys", "keys",
         {"set": None, "name": None, "kid": None, "jwk": None, "pem": None,
          "tags": None},
         required=("kid",), foreign={"set": ("key_sets", False, "cascade")},
         unique=("name",), together=(("kid", "set"),), endpoint_key="name",
         check=check_key),
    Kind("keyauth_credentials", "key-auths",
         {"consumer": None, "key": random_key, "ttl": None, "tags": None},
         foreign=CONSUMER_FK, unique=("key",), endpoint_key="key",
         timestamps=("created_at",)),
    Kind("basicauth_credentials", "basic-auths",
         {"consumer": None, "username": None, "password": None,
          "tags": None},
         required=("username", "password"), foreign=CONSUMER_FK,
         unique=("username",), endpoint_key="username",
         timestamps=("created_at",)),
    Kind("jwt_secrets", "jwts",
         {"consumer": None, "key": random_key, "secret": random_key,
          "algorithm": "HS256", "rsa_public_key": None, "tags": None},
         foreign=CONSUMER_FK, unique=("key",), endpoint_key="key",
         timestamps=("created_at",)),
    Kind("hmacauth_credentials", "hmac-auths",
         {"consumer": None, "username": None, "secret": random_key,
          "tags": None},
         required=("username",), foreign=CONSUMER_FK, unique=("username",),
         endpoint_key="username", timestamps=("created_at",)),
    Kind("oauth2_credentials", "oauth2",
         {"consumer": None, "name": None, "client_id": random_key,
          "client_secret": random_key, "redirect_uris": None,
          "hash_secret": False, "client_type": "confidential",
          "tags": None},
         required=("name",), foreign=CONSUMER_FK, unique=("client_id",),
         endpoint_key="client_id", timestamps=("created_at",)),
    Kind("acls", "acls", {"consumer": None, "group": None, "tags": None},
         required=("group",), foreign=CONSUMER_FK,
         together=(("consumer", "group"),), timestamps=("created_at",)),
    Kind("routes", "routes",
         {"name": None, "protocols": lambda: ["http", "https"],
          "methods": None, "hosts": None, "paths": None, "headers": None,
          "https_redirect_status_code": 426, "regex_priority": 0,
          "strip_path": True, "path_handling": "v0",
          "preserve_host": False, "request_buffering": True,
          "response_buffering": True, "snis": None, "sources": None,
          "destinations": None, "tags": None, "service": None},
         integers=("https_redirect_status_code", "regex_priority"),
         foreign={"service": ("services", False, "restrict")},
         unique=("name",), endpoint_key="name", check=check_route),
    Kind("targets", "targets",
         {"target": None, "weight": 100, "upstream": None, "tags": None},
         required=("target", "upstream"), integers=("weight",),
         foreign={"upstream": ("upstreams", True, "cascade")},
         together=(("upstream", "target"),), endpoint_key="target",
         float_time=True, ranges={"weight": (0, 65535)}),
    Kind("plugins", "plugins",
         {"name": None, "instance_name": None, "config": lambda: {},
          "protocols": lambda: ["grpc", "grpcs", "http", "https"],
          "enabled": True, "tags": None, "service": None, "route": None,
          "consumer": None, "consumer_group": None, "ordering": None},
         required=("name",),
         foreign={"service": ("services", False, "cascade"),
                  "route": ("routes", False, "cascade"),
                  "consumer": ("consumers", False, "cascade"),
                  "consumer_group": ("consumer_groups", False, "cascade")},
         unique=("instance_name",),
         together=(("name", "service", "route", "consumer",
                    "consumer_group"),),
         endpoint_key="instance_name", check=check_plugin),
]
KIND = {k.name: k for k in KINDS}
BY_PATH = {k.path: k for k in KINDS}
# Collections only reachable through their parent (Kong 3.x has no /targets).
NESTED_ONLY = {"targets"}
# Kinds without any Admin API collection (generate_admin_api = false).
HIDDEN = {"consumer_group_consumers"}
MEMBERSHIPS = "consumer_group_consumers"
# /{parent path}/{key}/{segment} -> (child kind, foreign field)
NESTED = {
    ("services", "routes"): ("routes", "service"),
    ("services", "plugins"): ("plugins", "service"),
    ("routes", "plugins"): ("plugins", "route"),
    ("consumers", "plugins"): ("plugins", "consumer"),
    ("consumer_groups", "plugins"): ("plugins", "consumer_group"),
    ("consumers", "key-auth"): ("keyauth_credentials", "consumer"),
    ("consumers", "basic-auth"): ("basicauth_credentials", "consumer"),
    ("consumers", "jwt"): ("jwt_secrets", "consumer"),
    ("consumers", "hmac-auth"): ("hmacauth_credentials", "consumer"),
    ("consumers", "oauth2"): ("oauth2_credentials", "consumer"),
    ("consumers", "acls"): ("acls", "consumer"),
    ("certificates", "snis"): ("snis", "certificate"),
    ("upstreams", "targets"): ("targets", "upstream"),
    ("key-sets", "keys"): ("keys", "set"),
}


class KongError(Exception):
    """An error Kong answers with: a status and a body."""

    def __init__(self, status, body):
        super().__init__(body.get("message"))
        self.status = status
        self.body = body


def lua_pretty(value):
    """Formats a key the way Kong's error messages do (pl.pretty.write)."""
    if isinstance(value, dict):
        return "{" + ",".join("%s=%s" % (k, lua_pretty(value[k]))
                              for k in sorted(value)) + "}"
    if value is None:
        return "null"
    if isinstance(value, str):
        return '"%s"' % value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def schema_violation(errors):
    parts = list(errors.get("@entity", []))
    for name in sorted(k for k in errors if k != "@entity"):
        value = errors[name]
        if isinstance(value, dict):
            for sub in sorted(value):
                parts.append("%s.%s: %s" % (name, sub, value[sub]))
        else:
            parts.append("%s: %s" % (name, value))
    if len(parts) == 1:
        message = "schema violation (%s)" % parts[0]
    else:
        message = "%d schema violations (%s)" % (len(parts), "; ".join(parts))
    return KongError(400, {"code": 2, "name": "schema violation",
                           "message": message, "fields": errors})


def unique_violation(key):
    return KongError(409, {"code": 5, "name": "unique constraint violation",
                           "message": "UNIQUE violation detected on '%s'"
                           % lua_pretty(key), "fields": key})


def not_found():
    return KongError(404, {"message": "Not found"})


def page_size(query):
    """The `size` of a listing (kong/api/endpoints.lua get_page_size)."""
    size = 100
    if "size" in query:
        try:
            size = float(query["size"])
        except ValueError:
            raise KongError(400, {"code": 9, "name": "invalid size",
                                  "message": "size must be a number"})
        if size != int(size) or size < 1 or size > 1000:
            raise KongError(400, {
                "code": 9, "name": "invalid size",
                "message": "size must be an integer between 1 and 1000"})
        size = int(size)
    return size


def decode_offset(offset, name):
    """The last key of an opaque offset made by encode_offset."""
    try:
        decoded = json.loads(base64.urlsafe_b64decode(
            offset.encode() + b"=" * (-len(offset) % 4)))
        if not (isinstance(decoded, list) and len(decoded) == 2 and
                decoded[0] == name):
            raise ValueError
        return decoded[1]
    except (ValueError, TypeError):
        raise KongError(400, {
            "code": 7, "name": "invalid offset",
            "message": "'%s' is not a valid offset: bad base64 "
                       "encoding" % offset})


def encode_offset(name, last):
    return base64.urlsafe_b64encode(json.dumps(
        [name, last]).encode()).decode().rstrip("=")


def hash_password(password, consumer_id):
    """What Kong's basic-auth crypto.hash stores: sha1(password .. salt)."""
    return hashlib.sha1((password + consumer_id).encode()).hexdigest()


def hash_client_secret(secret):
    """kong/plugins/oauth2/secret.lua hash with PBKDF2 (the algorithm Kong
    enables): sha512, 10000 iterations, 32 bytes, a random 16-byte salt,
    in PHC form with unpadded base64."""
    salt = os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha512", secret.encode(), salt, 10000, 32)

    def b64(raw):
        return base64.b64encode(raw).decode().rstrip("=")
    return "$pbkdf2-sha512$i=10000,l=32$%s$%s" % (b64(salt), b64(digest))


def pem_digest(pem):
    """cert_digest: the SHA-256 of the certificate's DER, in hex."""
    body = re.sub(r"-----[^-]+-----", "", pem or "")
    try:
        der = base64.b64decode("".join(body.split()), validate=False)
    except ValueError:
        der = (pem or "").encode()
    return hashlib.sha256(der).hexdigest()


DEFAULT_TARGET_PORT = 8000


def normalize_ip(address):
    """(type, host, port) as kong/tools/utils.lua normalize_ip reads an
    address: IPv4 octets as numbers, IPv6 expanded to eight groups of four
    hex digits, names checked; None when it is none of these."""
    if not isinstance(address, str):
        return None
    if address.count(":") > 1:
        match = re.match(r"^\[([^\]]+)\](?::(\d+))?$", address)
        host, port = (match.group(1), match.group(2)) if match else \
            (address, None)
        try:
            host = ipaddress.IPv6Address(host).exploded
        except ValueError:
            return None
        kind = "ipv6"
    elif re.match(r"^[\d.]+$", address.replace(":", "")):
        match = re.match(r"^(\d+)\.(\d+)\.(\d+)\.(\d+):?(\d*)$", address)
        if not match or any(int(o) > 255 for o in match.groups()[:4]):
            return None
        host = ".".join(str(int(o)) for o in match.groups()[:4])
        port = match.group(5) or None
        kind = "ipv4"
    else:
        match = re.match(r"^(.*?)(?::(\d+))?$", address)
        host, port = match.group(1), match.group(2)
        if not re.match(r"^[0-9A-Za-z._-]+$", host) or any(
                seg == "" or seg.endswith("-") for seg in host.split(".")):
            return None
        kind = "name"
    if port is not None:
        port = int(port)
        if port > 65535:
            return None
    return kind, host, port


def normalize_target(target):
    """kong/db/dao/targets.lua format_target: host:port, port 8000 when
    absent, IPv6 in brackets; None for what is not a host or address."""
    parsed = normalize_ip(target)
    if parsed is None:
        return None
    kind, host, port = parsed
    if kind == "ipv6":
        host = "[%s]" % host
    return "%s:%d" % (host, DEFAULT_TARGET_PORT if port is None else port)


def deep_merge(base, update):
    out = copy.deepcopy(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


class Database:
    """The entities, their unique indexes, and the rules between them."""

    def __init__(self):
        self.lock = threading.RLock()
        self.rows = {k.name: {} for k in KINDS}
        self.index = {}  # (kind, unique key tuple) -> id

    # -- lookups --------------------------------------------------------

    def get(self, kind, key):
        """An entity by id, or by its endpoint key, or None."""
        rows = self.rows[kind.name]
        if UUID_RE.match(key):
            return rows.get(key.lower())
        if kind.endpoint_key:
            found = self.index.get((kind.name, kind.endpoint_key, key))
            if found:
                return rows.get(found)
        return None

    def resolve_foreign(self, kind, field, value):
        """The parent's id for a foreign key, or raises Kong's error."""
        parent_name, _, _ = kind.foreign[field]
        parent = KIND[parent_name]
        if isinstance(value, str):
            value = {"id": value}
        if not isinstance(value, dict):
            raise schema_violation({field: "expected a record"})
        if "id" in value:
            if not isinstance(value["id"], str) or not UUID_RE.match(
                    value["id"]):
                raise schema_violation({field: {"id":
                                                "expected a valid UUID"}})
            if value["id"].lower() in self.rows[parent_name]:
                return value["id"].lower()
        elif parent.endpoint_key and parent.endpoint_key in value:
            found = self.get(parent, str(value[parent.endpoint_key]))
            if found:
                return found["id"]
        else:
            raise schema_violation({field: {"id": "required field missing"}})
        raise KongError(400, {
            "code": 4, "name": "foreign key violation",
            "message": "the foreign key '%s' does not reference an "
                       "existing '%s' entity." % (lua_pretty(value),
                                                  parent_name),
            "fields": {field: value}})

    def unique_keys(self, kind, entity):
        keys = []
        for field in kind.unique:
            if entity.get(field) is not None:
                keys.append(((field,), (field, entity[field])))
        for fields in kind.together:
            values = []
            for field in fields:
                value = entity.get(field)
                values.append(value["id"] if isinstance(value, dict)
                              else value)
            keys.append((fields, ("+".join(fields),) + tuple(
                json.dumps(v) for v in values)))
        return keys

    # -- writes ---------------------------------------------------------

    def validate(self, kind, entity):
        errors = {}
        for field in entity:
            if field not in kind.fields and field not in (
                    "id",) + kind.timestamps:
                errors[field] = "unknown field"
        for field in kind.required:
            if entity.get(field) is None:
                errors[field] = "required field missing"
        for field in kind.integers:
            value = entity.get(field)
            if value is not None and (isinstance(value, bool) or
                                      not isinstance(value, int)):
                errors[field] = "expected an integer"
            elif value is not None and field in kind.ranges:
                low, high = kind.ranges[field]
                if not low <= value <= high:
                    errors[field] = "value should be between %d and %d" % (
                        low, high)
        if entity.get("tags") is not None:
            tags = entity["tags"]
            if not isinstance(tags, list) or not all(
                    isinstance(t, str) for t in tags):
                errors["tags"] = "expected a set"
        if not UUID_RE.match(str(entity.get("id"))):
            errors["id"] = "expected a valid UUID"
        if errors:
            raise schema_violation(errors)
        if kind.check:
            problem = kind.check(entity)
            if problem:
                raise schema_violation(problem)

    def complete(self, kind, data, old=None, transform=True):
        """Fills defaults, converts and validates; returns the new row."""
        if kind.name == "services" and data.get("url") is not None:
            # Kong's shorthand: url sets protocol, host, port and path.
            data = dict(data)
            parsed = urlsplit(str(data.pop("url")))
            data["protocol"] = parsed.scheme
            data["host"] = parsed.hostname
            data["port"] = parsed.port or (443 if parsed.scheme == "https"
                                           else 80)
            data["path"] = parsed.path or None
        entity = {}
        for field, default in kind.fields.items():
            if field in data:
                entity[field] = copy.deepcopy(data[field])
            else:
                entity[field] = default() if callable(default) else \
                    copy.deepcopy(default)
        for field in data:
            if field not in entity:
                entity[field] = data[field]
        entity["id"] = data.get("id") or (old or {}).get("id") or \
            str(uuid.uuid4())
        if isinstance(entity["id"], str):
            entity["id"] = entity["id"].lower()
        now = time.time()
        for stamp in kind.timestamps:
            value = data.get(stamp)
            if value is None:
                if stamp == "created_at" and old:
                    value = old.get("created_at")
                else:
                    value = round(now, 3) if kind.float_time else int(now)
            if stamp == "updated_at":
                value = round(now, 3) if kind.float_time else int(now)
            entity[stamp] = value
        if kind.name == "upstreams" and isinstance(
                entity.get("healthchecks"), dict):
            entity["healthchecks"] = deep_merge(HEALTHCHECKS_DEFAULT,
                                                entity["healthchecks"])
        if kind.name == "targets" and entity.get("target") is not None:
            formatted = normalize_target(entity["target"])
            if formatted is None:
                raise schema_violation({"target": "Invalid target; not a "
                                        "valid hostname or ip address"})
            entity["target"] = formatted
        if kind.name == "ca_certificates" and entity.get("cert"):
            entity["cert_digest"] = pem_digest(entity["cert"])
        self.validate(kind, entity)
        for field in kind.foreign:
            if entity.get(field) is not None:
                entity[field] = {"id": self.resolve_foreign(
                    kind, field, entity[field])}
        if kind.name == "services" and entity.get("ca_certificates"):
            for ca in entity["ca_certificates"]:
                if ca not in self.rows["ca_certificates"]:
                    raise schema_violation({"ca_certificates": "expected a "
                                            "valid CA certificate id"})
        if kind.name == "basicauth_credentials" and transform and \
                "password" in data:
            entity["password"] = hash_password(str(entity["password"]),
                                               entity["consumer"]["id"])
        if kind.name == "oauth2_credentials" and transform and \
                entity.get("hash_secret") is True and \
                isinstance(entity.get("client_secret"), str):
            # kong/plugins/oauth2/daos.lua: the transformation whose input
            # is hash_secret hashes whatever client_secret it is given.
            entity["client_secret"] = hash_client_secret(
                entity["client_secret"])
        return entity

    def store(self, kind, entity):
        rows = self.rows[kind.name]
        old = rows.get(entity["id"])
        for fields, key in self.unique_keys(kind, entity):
            owner = self.index.get((kind.name,) + key)
            if owner and owner != entity["id"]:
                raise unique_violation({f: entity.get(f) for f in fields})
        if old:
            for _, key in self.unique_keys(kind, old):
                self.index.pop((kind.name,) + key, None)
        for _, key in self.unique_keys(kind, entity):
            self.index[(kind.name,) + key] = entity["id"]
        rows[entity["id"]] = entity
        return entity

    def insert(self, kind, data, transform=True):
        if data.get("id") is not None and (
                not isinstance(data["id"], str) or not UUID_RE.match(
                    data["id"])):
            raise schema_violation({"id": "expected a valid UUID"})
        if data.get("id") and data["id"].lower() in self.rows[kind.name]:
            raise KongError(400, {
                "code": 3, "name": "primary key violation",
                "message": "primary key violation on key '%s'"
                           % lua_pretty({"id": data["id"]}),
                "fields": {"id": data["id"]}})
        return self.store(kind, self.complete(kind, data,
                                              transform=transform))

    def upsert(self, kind, key, data):
        data = dict(data)
        old = self.get(kind, key)
        if UUID_RE.match(key):
            data["id"] = key.lower()
        elif old:
            data["id"] = old["id"]
        elif kind.endpoint_key:
            data[kind.endpoint_key] = key
        else:
            raise not_found()
        return self.store(kind, self.complete(kind, data, old))

    def update(self, kind, key, data):
        old = self.get(kind, key)
        if old is None:
            raise not_found()
        merged = copy.deepcopy(old)
        for field, value in data.items():
            if isinstance(value, dict) and isinstance(merged.get(field),
                                                      dict) and \
                    field not in kind.foreign:
                merged[field] = deep_merge(merged[field], value)
            else:
                merged[field] = value
        if kind.name == "basicauth_credentials" and "password" not in data:
            merged.pop("password")
            entity = self.complete(kind, merged, old)
            entity["password"] = old["password"]
        elif kind.name == "oauth2_credentials" and \
                "hash_secret" not in data and "client_secret" not in data:
            # The transformation's input is absent: nothing is rehashed.
            entity = self.complete(kind, merged, old, transform=False)
        else:
            entity = self.complete(kind, merged, old)
        entity["id"] = old["id"]
        return self.store(kind, entity)

    def delete(self, kind, entity):
        """Deletes with Kong's ON DELETE rules: restrict or cascade."""
        for child in KINDS:
            for field, (parent, _, on_delete) in child.foreign.items():
                if parent != kind.name:
                    continue
                refs = [r for r in self.rows[child.name].values()
                        if (r.get(field) or {}).get("id") == entity["id"]]
                if refs and on_delete == "restrict":
                    raise KongError(400, {
                        "code": 4, "name": "foreign key violation",
                        "message": "an existing '%s' entity references "
                                   "this '%s' entity" % (child.name,
                                                         kind.name),
                        "fields": {"@referenced_by": child.name}})
        for child in KINDS:
            for field, (parent, _, on_delete) in child.foreign.items():
                if parent != kind.name or on_delete != "cascade":
                    continue
                for ref in [r for r in self.rows[child.name].values()
                            if (r.get(field) or {}).get("id") ==
                            entity["id"]]:
                    self.delete(child, ref)
        if kind.name == "ca_certificates":
            for service in self.rows["services"].values():
                if entity["id"] in (service.get("ca_certificates") or []):
                    raise KongError(400, {
                        "message": "ca certificate %s is still referenced "
                                   "by services (id = %s)"
                                   % (entity["id"], service["id"])})
        for _, key in self.unique_keys(kind, entity):
            self.index.pop((kind.name,) + key, None)
        self.rows[kind.name].pop(entity["id"], None)

    def set_snis(self, certificate, names):
        """Kong's certificates endpoint: `snis` replaces the SNI set."""
        sni_kind = KIND["snis"]
        if not isinstance(names, list):
            raise schema_violation({"snis": "expected an array"})
        for name in names:
            owner = self.get(sni_kind, name)
            if owner and owner["certificate"]["id"] != certificate["id"]:
                raise KongError(409, {
                    "code": 5, "name": "unique constraint violation",
                    "message": "SNI '%s' already associated with existing "
                               "certificate '%s'"
                               % (name, owner["certificate"]["id"]),
                    "fields": {"snis": name}})
        for sni in list(self.rows["snis"].values()):
            if sni["certificate"]["id"] == certificate["id"] and \
                    sni["name"] not in names:
                self.delete(sni_kind, sni)
        for name in names:
            if not self.get(sni_kind, name):
                self.insert(sni_kind, {"name": name, "certificate":
                                       {"id": certificate["id"]}})

    def present(self, kind, entity):
        """An entity as the Admin API shows it."""
        out = copy.deepcopy(entity)
        if kind.name == "certificates":
            out["snis"] = sorted(s["name"] for s in self.rows["snis"].values()
                                 if s["certificate"]["id"] == entity["id"])
        return out

    def count(self):
        return sum(len(rows) for rows in self.rows.values())

    # -- pages ----------------------------------------------------------

    def page(self, kind, size, offset, tags=None, parent=None):
        rows = sorted(self.rows[kind.name].values(), key=lambda r: r["id"])
        if parent:
            field, parent_id = parent
            rows = [r for r in rows
                    if (r.get(field) or {}).get("id") == parent_id]
        if tags:
            wanted, mode = tags
            rows = [r for r in rows if r.get("tags") and (
                all(t in r["tags"] for t in wanted) if mode == "and"
                else any(t in r["tags"] for t in wanted))]
        if offset is not None:
            last = decode_offset(offset, kind.name)
            rows = [r for r in rows if r["id"] > last]
        data = [self.present(kind, r) for r in rows[:size]]
        next_offset = None
        if len(rows) > size:
            next_offset = encode_offset(kind.name, data[-1]["id"])
        return data, next_offset

    # -- consumer group memberships -------------------------------------

    def memberships_of(self, field, entity_id):
        """Memberships whose `field` (consumer_group or consumer) is it."""
        return [m for m in self.rows[MEMBERSHIPS].values()
                if m[field]["id"] == entity_id]

    def membership(self, group_id, consumer_id):
        for m in self.memberships_of("consumer", consumer_id):
            if m["consumer_group"]["id"] == group_id:
                return m
        return None

    def page_members(self, field, entity_id, size, offset):
        """One page of the other side of `entity_id`'s memberships."""
        other = "consumer" if field == "consumer_group" else \
            "consumer_group"
        other_kind = KIND["consumers" if other == "consumer" else
                          "consumer_groups"]
        ids = sorted(m[other]["id"] for m in
                     self.memberships_of(field, entity_id))
        if offset is not None:
            last = decode_offset(offset, MEMBERSHIPS)
            ids = [i for i in ids if i > last]
        data = [self.present(other_kind, self.rows[other_kind.name][i])
                for i in ids[:size]]
        next_offset = None
        if len(ids) > size:
            next_offset = encode_offset(MEMBERSHIPS, ids[size - 1])
        return data, next_offset


def cjson_dumps(value):
    """JSON as lua-cjson writes it: compact, "/" escaped."""
    return json.dumps(value, separators=(",", ":")).replace("/", "\\/")


def yaml_scalar(value):
    if value is None:
        return "~"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(value)


def yaml_dump(value, indent=""):
    """A small block-style YAML writer for GET /config (Kong uses lyaml)."""
    lines = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                lines.append("%s%s:" % (indent, key))
                lines.append(yaml_dump(item, indent + "  "))
            elif isinstance(item, (dict, list)):
                lines.append("%s%s: %s" % (indent, key,
                                           "{}" if isinstance(item, dict)
                                           else "[]"))
            else:
                lines.append("%s%s: %s" % (indent, key, yaml_scalar(item)))
    else:
        for item in value:
            if isinstance(item, (dict, list)) and item:
                body = yaml_dump(item, indent + "  ")
                lines.append(indent + "- " + body.lstrip())
            else:
                lines.append("%s- %s" % (indent, yaml_scalar(item)))
    return "\n".join(lines)


class Emulator:
    def __init__(self, args):
        self.args = args
        self.db = Database()
        self.requests = 0
        self.disabled = set(args.disable or [])
        self.node_id = str(uuid.uuid4())
        self.config_hash = "0" * 32

    def before_3_4(self):
        """Kong before 3.4 lists a group's consumers in one answer."""
        try:
            major, minor = (int(p) for p in
                            self.args.version.split(".")[:2])
        except ValueError:
            return False
        return (major, minor) < (3, 4)

    # -- declarative configuration (DB-less) ----------------------------

    def load_declarative(self, document):
        if not isinstance(document, dict) or \
                document.get("_format_version") not in ("1.1", "2.1", "3.0"):
            raise KongError(400, {
                "code": 14, "name": "invalid declarative configuration",
                "message": "declarative config is invalid: "
                           "{_format_version=\"required field missing\"}",
                "fields": {"_format_version": "required field missing"}})
        transform = document.get("_transform", True)
        flat = {k.name: [] for k in KINDS}
        errors = {}

        def collect(kind_name, items, parent=None):
            kind = KIND[kind_name]
            for item in items:
                if not isinstance(item, dict):
                    continue
                item = dict(item)
                if item.get("id") is None:
                    key = item.get(kind.endpoint_key) if \
                        kind.endpoint_key else None
                    item["id"] = str(uuid.uuid5(DECLARATIVE_NS, "%s:%s" % (
                        kind_name, key if key else json.dumps(
                            item, sort_keys=True))))
                if parent:
                    item[parent[0]] = {"id": parent[1]}
                if kind_name == "certificates" and isinstance(
                        item.get("snis"), list):
                    item["snis"] = [s if isinstance(s, dict) else
                                    {"name": s} for s in item["snis"]]
                for (pkind, _), (child, field) in NESTED.items():
                    if pkind == kind.path and \
                            isinstance(item.get(child), list):
                        collect(child, item.pop(child),
                                (field, item["id"]))
                flat[kind_name].append(item)

        for kind in KINDS:
            if isinstance(document.get(kind.name), list):
                collect(kind.name, document[kind.name])
        for key in document:
            if key not in KIND and key not in ("_format_version",
                                               "_transform", "_comment",
                                               "_ignore"):
                errors[key] = "unknown field"
        db = Database()
        for kind in KINDS:
            for item in flat[kind.name]:
                for field in kind.foreign:
                    value = item.get(field)
                    if isinstance(value, str):
                        parent = KIND[kind.foreign[field][0]]
                        found = next((p for p in flat[parent.name]
                                      if p["id"] == value or (
                                          parent.endpoint_key and
                                          p.get(parent.endpoint_key) ==
                                          value)), None)
                        item[field] = {"id": found["id"] if found else value}
                try:
                    db.insert(kind, item, transform=transform)
                except KongError as e:
                    errors.setdefault(kind.name, []).append(
                        e.body.get("message"))
        if errors:
            raise KongError(400, {
                "code": 14, "name": "invalid declarative configuration",
                "message": "declarative config is invalid: %s"
                           % lua_pretty({k: str(v) for k, v in
                                         errors.items()}),
                "fields": errors})
        with self.db.lock:
            self.db.rows = db.rows
            self.db.index = db.index
        self.config_hash = hashlib.md5(cjson_dumps(document).encode()
                                       ).hexdigest()
        return {k.name: {e["id"]: db.present(k, e)
                         for e in db.rows[k.name].values()}
                for k in KINDS if db.rows[k.name]}

    def export(self):
        out = {"_format_version": "3.0", "_transform": False}
        for kind in KINDS:
            rows = sorted(self.db.rows[kind.name].values(),
                          key=lambda r: r["id"])
            if not rows:
                continue
            items = []
            for row in rows:
                row = copy.deepcopy(row)
                if kind.name in HIDDEN:
                    del row["id"]
                for field in kind.foreign:
                    if isinstance(row.get(field), dict):
                        row[field] = row[field]["id"]
                items.append(row)
            out[kind.name] = items
        return yaml_dump(out) + "\n"


class Handler(BaseHTTPRequestHandler):
    server_version = "kong/3"
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without this, Nagle's
    # algorithm and the client's delayed ACK cost 40 ms per request.
    disable_nagle_algorithm = True

    def log_message(self, format, *args):
        if self.server.emulator.args.verbose:
            sys.stderr.write("kong-emulator: %s\n" % (format % args))

    # -- plumbing -------------------------------------------------------

    def send_json(self, status, body, cut=False, headers=None):
        data = b"" if body is None else cjson_dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Kong-Admin-Latency", "0")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if cut:
            # Half of the body, then the connection is gone.
            self.wfile.write(data[:max(1, len(data) // 2)])
            self.wfile.flush()
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if status != 204:
            self.wfile.write(data)

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        ctype = (self.headers.get("Content-Type") or "").split(";")[0]
        if not raw:
            return {}
        if ctype == "application/x-www-form-urlencoded":
            out = {}
            for key, values in parse_qs(raw.decode(),
                                        keep_blank_values=True).items():
                value = values if key.endswith("[]") else values[-1]
                key = key[:-2] if key.endswith("[]") else key
                if isinstance(value, str) and value.isdigit():
                    value = int(value)
                if "." in key:
                    head, tail = key.split(".", 1)
                    out.setdefault(head, {})[tail] = value
                else:
                    out[key] = value
            return out
        try:
            body = json.loads(raw)
        except ValueError:
            raise KongError(400, {"message": "Cannot parse JSON body"})
        if not isinstance(body, dict):
            raise KongError(400, {"message": "Cannot parse JSON body"})
        return body

    def handle_any(self, method):
        emulator = self.server.emulator
        with emulator.db.lock:
            emulator.requests += 1
            number = emulator.requests
        cut = emulator.args.fail_after is not None and \
            number == emulator.args.fail_after + 1
        headers = {}
        try:
            answer = self.route(method)
            status, body = answer[0], answer[1]
            if len(answer) > 2:
                headers = answer[2]
        except KongError as e:
            status, body = e.status, e.body
        except Exception as e:  # a bug here must not look like Kong
            status, body = 500, {"message": "An unexpected error occurred",
                                 "emulator": repr(e)}
        self.send_json(status, body, cut=cut, headers=headers)

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_PUT(self):
        self.handle_any("PUT")

    def do_PATCH(self):
        self.handle_any("PATCH")

    def do_DELETE(self):
        self.handle_any("DELETE")

    # -- routing --------------------------------------------------------

    def authenticate(self):
        token = self.server.emulator.args.token
        if token is None:
            return
        given = self.headers.get("Kong-Admin-Token")
        if given is None:
            raise KongError(401, {"message": "Invalid credentials. Token "
                                  "or User credentials required"})
        if not secrets.compare_digest(given.encode(), token.encode()):
            raise KongError(401, {"message": "Invalid RBAC credentials. "
                                  "Admin Token or User credentials "
                                  "required"})

    def route(self, method):
        emulator = self.server.emulator
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query,
                                               keep_blank_values=True).items()}
        parts = [unquote(p) for p in url.path.split("/") if p]
        body = self.read_body() if method in ("POST", "PUT", "PATCH") \
            else {}
        self.authenticate()
        db = emulator.db
        dbless = emulator.args.dbless

        if not parts:
            self.only(method, "GET")
            return 200, self.root()
        if parts == ["status"]:
            self.only(method, "GET")
            return 200, self.status()
        if parts == ["config"]:
            self.only(method, "GET", "POST")
            if not dbless:
                raise KongError(400, {"message": "this endpoint is only "
                                      "available when Kong is configured "
                                      "to not use a database"})
            if method == "GET":
                with db.lock:
                    return 200, {"config": emulator.export()}
            document = body
            if "config" in body and "_format_version" not in body:
                try:
                    document = json.loads(body["config"])
                except (TypeError, ValueError):
                    raise KongError(400, {
                        "code": 14,
                        "name": "invalid declarative configuration",
                        "message": "failed parsing declarative "
                                   "configuration: expected an object"})
            return 201, emulator.load_declarative(document)

        kind = BY_PATH.get(parts[0])
        if kind is None or kind.name in emulator.disabled or \
                kind.name in HIDDEN:
            raise not_found()
        if len(parts) in (3, 4) and (parts[0], parts[2]) in (
                ("consumer_groups", "consumers"),
                ("consumers", "consumer_groups")):
            if MEMBERSHIPS in emulator.disabled:
                raise not_found()
            with db.lock:
                return self.memberships(method, parts, query, body)
        if kind.name in NESTED_ONLY and len(parts) <= 2:
            raise not_found()
        if parts[0] == "upstreams" and len(parts) in (3, 4) and \
                parts[2] == "targets" and "targets" not in emulator.disabled:
            with db.lock:
                return self.targets(method, parts, query, body)
        with db.lock:
            if len(parts) == 1:
                return self.collection(method, kind, query, body, None)
            if len(parts) == 2:
                return self.entity(method, kind, parts[1], body, None)
            nested = NESTED.get((kind.path, parts[2]))
            if nested is None or nested[0] in emulator.disabled \
                    or len(parts) > 4:
                raise not_found()
            parent = db.get(kind, parts[1])
            if parent is None:
                raise not_found()
            child = KIND[nested[0]]
            link = (nested[1], parent["id"])
            if len(parts) == 3:
                return self.collection(method, child, query, body, link,
                                       "/%s/%s/%s" % (kind.path, parts[1],
                                                      parts[2]))
            return self.entity(method, child, parts[3], body, link)

    def memberships(self, method, parts, query, body):
        """kong/api/routes/consumer_groups.lua: memberships either way."""
        db = self.server.emulator.db
        groups, consumers = KIND["consumer_groups"], KIND["consumers"]
        by_group = parts[0] == "consumer_groups"
        if by_group:
            group = db.get(groups, parts[1])
            if group is None:
                raise KongError(404, {"message": "Group '%s' not found"
                                      % parts[1]})
            owner, field, other_kind = group, "consumer_group", consumers
        else:
            consumer = db.get(consumers, parts[1])
            if consumer is None:
                raise KongError(404, {"message": "Consumer '%s' not found"
                                      % parts[1]})
            owner, field, other_kind = consumer, "consumer", groups
        kind = KIND[MEMBERSHIPS]

        def pair(other):
            return (owner, other) if by_group else (other, owner)

        if len(parts) == 4:
            self.only(method, "GET", "DELETE")
            other = db.get(other_kind, parts[3])
            if other is None:
                raise KongError(404, {"message": "%s '%s' not found" % (
                    "Consumer" if by_group else "Group", parts[3])})
            group, consumer = pair(other)
            row = db.membership(group["id"], consumer["id"])
            if row is None:
                raise KongError(404, {
                    "message": "Consumer '%s' not found in Group '%s'"
                    % (parts[3] if by_group else parts[1],
                       parts[1] if by_group else parts[3])})
            if method == "GET":
                return 200, ({"consumer": db.present(consumers, consumer)}
                             if by_group else
                             {"consumer_group": db.present(groups, group)})
            self.refuse_dbless(kind, "delete")
            db.delete(kind, row)
            return 204, None

        self.only(method, "GET", "POST", "DELETE")
        if method == "GET" and self.server.emulator.before_3_4():
            # One answer, no pages, no member at all when empty.
            rows = db.memberships_of(field, owner["id"])
            other = "consumer" if by_group else "consumer_group"
            items = [db.present(other_kind,
                                db.rows[other_kind.name][m[other]["id"]])
                     for m in rows]
            name = "consumers" if by_group else "consumer_groups"
            return 200, {name: items} if items else {}
        if method == "GET":
            data, offset = db.page_members(field, owner["id"],
                                           page_size(query),
                                           query.get("offset"))
            if not by_group:
                for g in data:
                    g["consumers_count"] = len(db.memberships_of(
                        "consumer_group", g["id"]))
            next_link = None
            if offset is not None:
                # Like Kong's query_by_page: the offset alone.
                next_link = "/%s/%s/%s?offset=%s" % (
                    parts[0], owner["id"], parts[2],
                    quote(offset, safe=""))
            return 200, {"data": data, "offset": offset, "next": next_link}
        if method == "DELETE":
            self.refuse_dbless(kind, "delete")
            rows = db.memberships_of(field, owner["id"])
            if not rows:
                raise KongError(404, {"message": (
                    "Group '%s' has no consumers" if by_group else
                    "Consumer '%s' not in group") % owner["id"]})
            for row in rows:
                db.delete(kind, row)
            return 204, None
        self.refuse_dbless(kind, "create")
        name = "consumer" if by_group else "group"
        wanted = body.get(name)
        if wanted is None:
            raise KongError(400, {"message": "must provide %s" % name})
        if not isinstance(wanted, list):
            wanted = [wanted]
        others = []
        for key in wanted:
            other = db.get(other_kind, str(key))
            if other is None:
                raise KongError(404, {"message": "%s '%s' not found" % (
                    "Consumer" if by_group else "Group", key)})
            group, consumer = pair(other)
            if db.membership(group["id"], consumer["id"]) is not None:
                raise KongError(409, {
                    "message": "Consumer '%s' already in group '%s'"
                    % ((key, owner["id"]) if by_group else
                       (parts[1], key))})
            others.append(other)
        for other in others:
            group, consumer = pair(other)
            db.insert(kind, {"consumer_group": {"id": group["id"]},
                             "consumer": {"id": consumer["id"]}})
        if by_group:
            return 201, {"consumer_group": db.present(groups, owner),
                         "consumers": [db.present(consumers, c)
                                       for c in others]}
        return 201, {"consumer": db.present(consumers, owner),
                     "consumer_groups": [db.present(groups, g)
                                         for g in others]}

    def only(self, method, *allowed):
        if method not in allowed:
            raise KongError(405, {"message": "Method not allowed"})

    def refuse_dbless(self, kind, verb):
        if self.server.emulator.args.dbless:
            raise KongError(405, {
                "code": 12, "name": "operation unsupported",
                "message": "cannot %s '%s' entities when not using a "
                           "database" % (verb, kind.name)})

    def targets(self, method, parts, query, body):
        """kong/api/routes/upstreams.lua: an upstream's targets.

        GET of the collection is page_for_upstream (kong/db/dao/targets.lua):
        newest first, one per target, numeric offsets. POST updates the
        upstream's target of the same `target` (200, Deprecation: true) or
        creates one (201). GET, PUT, PATCH and DELETE of one target go
        through target_endpoint: 404 unless the upstream and the target
        (by id, or by its `target`) exist and belong together; PUT and
        PATCH only update (update_target_cb); GET hides weight 0.
        """
        db = self.server.emulator.db
        kind = KIND["targets"]
        upstream = db.get(KIND["upstreams"], parts[1])
        if upstream is None:
            raise not_found()
        mine = [t for t in self.targets_of(upstream)]

        def by_target(name):
            for row in reversed(mine):  # select_by_upstream_filter
                if row["target"] == name:
                    return row
            return None

        if len(parts) == 4 and parts[3] == "all":
            self.only(method, "GET")
            path = "/upstreams/%s/targets/all" % parts[1]
            data, offset = db.page(kind, page_size(query),
                                   query.get("offset"),
                                   self.tag_filter(query),
                                   ("upstream", upstream["id"]))
            return 200, {"data": data, "offset": offset,
                         "next": "%s?offset=%s" % (path, quote(
                             offset, safe="")) if offset else None}
        if len(parts) == 3:
            self.only(method, "GET", "POST")
            if method == "GET":
                return 200, self.target_page(upstream, parts[1], mine,
                                             query)
            existing = by_target(body.get("target"))
            if existing is not None:
                self.refuse_dbless(kind, "update")
                entity = db.update(kind, existing["id"], body)
                return 200, db.present(kind, entity), {"Deprecation": "true"}
            self.refuse_dbless(kind, "create")
            body["upstream"] = {"id": upstream["id"]}
            return 201, db.present(kind, db.insert(kind, body))
        key = parts[3]
        if UUID_RE.match(key):
            target = db.rows["targets"].get(key.lower())
        else:
            target = by_target(key)
        if target is None or target["upstream"]["id"] != upstream["id"]:
            raise not_found()
        self.only(method, "GET", "PUT", "PATCH", "DELETE")
        if method == "GET":
            if target["weight"] == 0:
                raise not_found()
            return 200, db.present(kind, target)
        if method == "DELETE":
            self.refuse_dbless(kind, "delete")
            db.delete(kind, target)
            return 204, None
        self.refuse_dbless(kind, "update")
        return 200, db.present(kind, db.update(kind, target["id"], body))

    def targets_of(self, upstream):
        """select_by_upstream_raw: by created_at, then id."""
        db = self.server.emulator.db
        return sorted((t for t in db.rows["targets"].values()
                       if t["upstream"]["id"] == upstream["id"]),
                      key=lambda t: (t["created_at"], t["id"]))

    def target_page(self, upstream, key, mine, query):
        """kong/db/dao/targets.lua page_for_upstream."""
        tags = self.tag_filter(query)
        if tags:
            wanted, mode = tags
            mine = [r for r in mine if r.get("tags") and (
                all(t in r["tags"] for t in wanted) if mode == "and"
                else any(t in r["tags"] for t in wanted))]
        active, seen = [], set()
        for row in reversed(mine):
            if row["target"] not in seen:
                active.append(row)
                seen.add(row["target"])
        size = 100
        if "size" in query:
            try:
                size = float(query["size"])
            except ValueError:
                raise KongError(400, {"code": 9, "name": "invalid size",
                                      "message": "size must be a number"})
        size = int(min(size, 1000))
        try:
            offset = int(query.get("offset") or 0)
        except ValueError:
            # Lua's arithmetic on a string that is no number: a 500.
            raise KongError(500, {"message": "An unexpected error "
                                             "occurred"})
        data = [self.server.emulator.db.present(KIND["targets"], r)
                for r in active[offset:offset + size]]
        next_offset = str(size + offset) if len(active) > size + offset \
            else None
        return {"data": data, "offset": next_offset,
                "next": "/upstreams/%s/targets?offset=%s" % (
                    key, next_offset) if next_offset else None}

    def tag_filter(self, query):
        """kong/api/endpoints.lua extract_options: ?tags=a,b or a/b."""
        if "tags" not in query:
            return None
        raw = query["tags"]
        if TAGS_AND_RE.match(raw):
            return raw.split(","), "and"
        if TAGS_OR_RE.match(raw):
            return raw.split("/"), "or"
        raise KongError(400, {
            "code": 11, "name": "invalid options",
            "message": "invalid option (tags: invalid filter syntax)",
            "options": {"tags": "invalid filter syntax"}})

    def collection(self, method, kind, query, body, link, path=None):
        db = self.server.emulator.db
        self.only(method, "GET", "POST")
        if method == "POST":
            self.refuse_dbless(kind, "create")
            if link:
                body[link[0]] = {"id": link[1]}
            snis = body.pop("snis", None) if kind.name == "certificates" \
                else None
            entity = db.insert(kind, body)
            if snis is not None:
                db.set_snis(entity, snis)
            return 201, db.present(kind, entity)
        size = page_size(query)
        tags = self.tag_filter(query)
        data, offset = db.page(kind, size, query.get("offset"), tags, link)
        next_link = None
        if offset is not None:
            if link:
                # Kong's nested collections do not repeat size or tags.
                next_link = "%s?offset=%s" % (path, quote(offset, safe=""))
            else:
                # get_collection_endpoint: the offset and the tags, not
                # the size.
                next_link = "/%s?offset=%s" % (kind.path,
                                               quote(offset, safe=""))
                if "tags" in query:
                    next_link += "&tags=" + query["tags"]
        return 200, {"data": data, "offset": offset, "next": next_link}

    def entity(self, method, kind, key, body, link):
        db = self.server.emulator.db
        if method == "POST":
            raise KongError(405, {"message": "Method not allowed"})
        current = db.get(kind, key)
        if link and current is not None and \
                (current.get(link[0]) or {}).get("id") != link[1]:
            current = None
        if method == "GET":
            if current is None:
                raise not_found()
            return 200, db.present(kind, current)
        if method == "DELETE":
            self.refuse_dbless(kind, "delete")
            if current is not None:
                db.delete(kind, current)
            return 204, None
        self.refuse_dbless(kind, "update" if method == "PATCH" else
                           "create")
        if link:
            body[link[0]] = {"id": link[1]}
        snis = body.pop("snis", None) if kind.name == "certificates" \
            else None
        if method == "PUT":
            entity = db.upsert(kind, key, body)
        else:
            entity = db.update(kind, key, body)
        if snis is not None:
            db.set_snis(entity, snis)
        return 200, db.present(kind, entity)

    # -- informational endpoints ---------------------------------------

    def root(self):
        args = self.server.emulator.args
        return {
            "version": args.version,
            "tagline": "Welcome to kong",
            "hostname": socket.gethostname(),
            "node_id": self.server.emulator.node_id,
            "lua_version": "LuaJIT 2.1.0-20231117",
            "edition": "community",
            "configuration": {
                "database": "off" if args.dbless else "postgres",
                "admin_listen": ["127.0.0.1:%d" % self.server.server_port],
                "proxy_listen": ["0.0.0.0:8000"],
                "role": "traditional",
                "pg_host": None if args.dbless else "127.0.0.1",
                "pg_port": 5432,
            },
            "plugins": {
                "available_on_server": {p: {"priority": 0, "version": args.version}
                                        for p in BUNDLED_PLUGINS},
                "enabled_in_cluster": sorted({
                    p["name"] for p in
                    self.server.emulator.db.rows["plugins"].values()}),
            },
            "timers": {"running": 0, "pending": 5},
            "pids": {"master": 1, "workers": [2]},
        }

    def status(self):
        emulator = self.server.emulator
        out = {
            "database": {"reachable": True},
            "memory": {"lua_shared_dicts": {}, "workers_lua_vms": []},
            "server": {"connections_accepted": emulator.requests,
                       "connections_active": 1, "connections_handled":
                       emulator.requests, "connections_reading": 0,
                       "connections_waiting": 0, "connections_writing": 1,
                       "total_requests": emulator.requests},
        }
        if emulator.args.dbless:
            out["configuration_hash"] = emulator.config_hash
        return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--dbless", action="store_true")
    parser.add_argument("--token")
    parser.add_argument("--version", default="3.6.1")
    parser.add_argument("--fail-after", type=int)
    parser.add_argument("--disable", action="append",
                        help="an entity kind this node does not have")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.emulator = Emulator(args)

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    # One write, then stdout is done with: the reader may close its end.
    os.write(1, b"%d\n" % server.server_port)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    try:
        server.serve_forever(poll_interval=0.2)
    except (SystemExit, KeyboardInterrupt):
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
