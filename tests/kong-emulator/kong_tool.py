#!/usr/bin/env python3
"""Fills and reads a Kong Admin API for the kong plugin tests.

  kong_tool.py seed URL [--token T] [--scale N]
      creates the payment platform's gateway through the Admin API: 16
      services (payment-* hosts, ports 40001-40016, mTLS to the back ends),
      their routes, global and scoped plugins, consumers with key-auth,
      basic-auth, JWT, HMAC, ACL and OAuth2 credentials, consumer groups,
      consumer groups with members, certificates with SNIs, CA
      certificates, an upstream with targets, a vault, a key set with keys.
      --scale N adds N consumers, each with a key-auth credential and an
      ACL, and a consumer group "bulk" they all belong to (4 N + 1
      entities), for pagination tests.
  kong_tool.py dump URL [--token T] [--skip KIND]...
      prints every entity, by kind and id, as canonical JSON without
      updated_at (which Kong refreshes on every write), and the consumer
      group memberships as consumer_group_consumers {consumer_group,
      consumer} pairs: two gateways that print the same dump hold the same
      configuration.
  kong_tool.py count URL [--token T]
      prints the number of entities.
  kong_tool.py requests URL [--token T]
      prints how many requests the node has served (GET /status).
  kong_tool.py post URL PATH JSON [--token T]
      sends one POST (to add an entity by hand).
  kong_tool.py delete URL PATH [--token T]
      sends one DELETE (to remove an entity by hand).
  kong_tool.py call URL METHOD PATH JSON [--token T]
      sends one request with a JSON body (PATCH, PUT...).

Python 3 standard library only; works against Kong itself as well.
"""

import argparse
import base64
import hashlib
import json
import sys
import urllib.error
import urllib.request

KINDS = [
    ("certificates", "certificates"), ("ca_certificates", "ca_certificates"),
    ("consumers", "consumers"), ("consumer_groups", "consumer_groups"),
    ("vaults", "vaults"), ("key_sets", "key-sets"), ("snis", "snis"),
    ("services", "services"), ("upstreams", "upstreams"), ("keys", "keys"),
    ("keyauth_credentials", "key-auths"),
    ("basicauth_credentials", "basic-auths"), ("jwt_secrets", "jwts"),
    ("hmacauth_credentials", "hmac-auths"),
    ("oauth2_credentials", "oauth2"), ("acls", "acls"),
    ("routes", "routes"), ("targets", None), ("plugins", "plugins"),
    ("consumer_group_consumers", None),
]

SERVICES = [
    "gateway", "merchant", "checkout", "refunds", "ledger", "settlement",
    "fraud", "risk", "notifications", "webhooks", "reporting", "kyc",
    "payouts", "currency", "invoicing", "audit",
]


class Api:
    def __init__(self, url, token):
        self.url = url.rstrip("/")
        self.token = token

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data,
                                         method=method)
        request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Kong-Admin-Token", self.token)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw = response.read()
        except urllib.error.HTTPError as e:
            sys.exit("%s %s: HTTP %d %s" % (method, path, e.code,
                                             e.read().decode()))
        return json.loads(raw) if raw else None

    def post(self, path, body):
        return self.call("POST", path, body)

    def all(self, path, member=None):
        """Every item of a listing; `member` names the list of an answer
        without `data` (older Kong's /consumer_groups/{id}/consumers)."""
        out = []
        path = path + ("&" if "?" in path else "?") + "size=1000"
        while path:
            page = self.call("GET", path)
            if "data" not in page and member:
                out.extend(page.get(member) or [])
                break
            out.extend(page["data"])
            path = page.get("next")
            if path and "size=" not in path:
                path += "&size=1000"
        return out


def fake_pem(label, kind="CERTIFICATE"):
    """A PEM-shaped block; the emulator does not parse certificates."""
    der = hashlib.sha512(label.encode()).digest() * 12
    text = base64.b64encode(der).decode()
    lines = [text[i:i + 64] for i in range(0, len(text), 64)]
    return "-----BEGIN %s-----\n%s\n-----END %s-----\n" % (
        kind, "\n".join(lines), kind)


def seed(api, scale):
    ca = [api.post("/ca_certificates", {
        "cert": fake_pem("payment-root-ca-%d" % i),
        "tags": ["payment", "pki"]}) for i in range(3)]
    edge = api.post("/certificates", {
        "cert": fake_pem("api.payment.example"),
        "key": fake_pem("api.payment.example key", "PRIVATE KEY"),
        "snis": ["api.payment.example", "*.payment.example"],
        "tags": ["payment", "edge"]})
    mtls = api.post("/certificates", {
        "cert": fake_pem("kong-to-backends"),
        "key": fake_pem("kong-to-backends key", "PRIVATE KEY"),
        "tags": ["payment", "mtls"]})
    api.post("/snis", {"name": "admin.payment.example",
                       "certificate": {"id": edge["id"]}})

    services = []
    for i, name in enumerate(SERVICES):
        service = api.post("/services", {
            "name": "payment-%s" % name, "protocol": "https",
            "host": "payment-%s" % name, "port": 40001 + i,
            "path": "/", "retries": 3, "connect_timeout": 5000,
            "client_certificate": {"id": mtls["id"]},
            "ca_certificates": [ca[0]["id"], ca[1]["id"]],
            "tls_verify": True, "tls_verify_depth": 2,
            "tags": ["payment", "platform"]})
        services.append(service)
        api.post("/services/%s/routes" % service["name"], {
            "name": "payment-%s-api" % name,
            "paths": ["/api/v1/%s" % name],
            "methods": ["GET", "POST", "PUT", "DELETE"],
            "hosts": ["api.payment.example"], "strip_path": False,
            "tags": ["payment"]})
        api.post("/services/%s/routes" % service["name"], {
            "name": "payment-%s-metrics" % name,
            "paths": ["~/metrics/%s$" % name], "methods": ["GET"],
            "protocols": ["https"], "regex_priority": 10,
            "headers": {"x-scrape": ["prometheus"]}})
    # A route without a service (request-termination answers it).
    maintenance = api.post("/routes", {
        "name": "maintenance", "paths": ["/maintenance"],
        "tags": ["ops"]})

    upstream = api.post("/upstreams", {
        "name": "payment-gateway-upstream", "algorithm": "least-connections",
        "healthchecks": {"active": {"http_path": "/metrics",
                                    "healthy": {"interval": 5,
                                                "successes": 2}}},
        "client_certificate": {"id": mtls["id"]}, "tags": ["payment"]})
    for port in (40001, 40101, 40201):
        api.post("/upstreams/%s/targets" % upstream["id"], {
            "target": "10.0.0.%d:%d" % (port % 7 + 10, port),
            "weight": 100 if port == 40001 else 50})

    groups = [api.post("/consumer_groups", {"name": n, "tags": ["tier"]})
              for n in ("gold", "silver", "bronze")]
    consumers = {}
    for name in ("merchant-portal", "mobile-app", "partner-acme",
                 "internal-batch", "grafana", "ops-admin"):
        consumers[name] = api.post("/consumers", {
            "username": name, "custom_id": "cust-%s" % name,
            "tags": ["payment"]})
    for name in ("merchant-portal", "mobile-app", "partner-acme"):
        api.post("/consumers/%s/key-auth" % name,
                 {"key": "key-%s-0123456789" % name, "tags": ["api"]})
    api.post("/consumers/ops-admin/basic-auth",
             {"username": "ops-admin", "password": "s3cret/pa$$word"})
    api.post("/consumers/grafana/basic-auth",
             {"username": "grafana", "password": "admin"})
    api.post("/consumers/partner-acme/jwt",
             {"key": "acme-issuer", "algorithm": "HS512"})
    api.post("/consumers/internal-batch/hmac-auth",
             {"username": "batch-signer"})
    api.post("/consumers/merchant-portal/oauth2", {
        "name": "Merchant Portal \u2014 \u20ac", "client_id": "merchant-portal",
        "redirect_uris": ["https://merchant.payment.example/callback"]})
    # Memberships, both ways Kong offers: a list of consumers into a group,
    # and groups from the consumer's side. "bronze" stays empty.
    api.post("/consumer_groups/gold/consumers",
             {"consumer": ["merchant-portal", consumers["partner-acme"]["id"]]})
    api.post("/consumers/mobile-app/consumer_groups", {"group": "silver"})
    api.post("/consumers/%s/consumer_groups" % consumers["grafana"]["id"],
             {"group": groups[1]["id"]})
    for name, group in (("merchant-portal", "merchants"),
                        ("partner-acme", "partners"),
                        ("ops-admin", "admins"), ("grafana", "monitoring")):
        api.post("/consumers/%s/acls" % name, {"group": group})

    api.post("/vaults", {"name": "env", "prefix": "payment-env",
                         "description": "secrets from the environment",
                         "config": {"prefix": "PAYMENT_"}})
    keyset = api.post("/key-sets", {"name": "payment-jwks"})
    for kid in ("2024-01", "2024-07"):
        api.post("/keys", {
            "name": "payment-%s" % kid, "kid": kid,
            "set": {"id": keyset["id"]},
            "jwk": json.dumps({"kty": "oct", "kid": kid,
                               "k": base64.urlsafe_b64encode(
                                   kid.encode() * 4).decode()})})
    api.post("/keys", {"name": "standalone", "kid": "solo",
                       "pem": {"public_key": fake_pem("solo", "PUBLIC KEY")}})

    api.post("/plugins", {"name": "prometheus",
                          "config": {"per_consumer": True}})
    api.post("/plugins", {"name": "correlation-id",
                          "config": {"header_name": "X-Request-ID",
                                     "generator": "uuid#counter"}})
    for service in services[:8]:
        api.post("/services/%s/plugins" % service["id"], {
            "name": "key-auth", "config": {"key_names": ["apikey"],
                                           "hide_credentials": True}})
        api.post("/services/%s/plugins" % service["id"], {
            "name": "rate-limiting",
            "config": {"second": 50, "minute": 1200, "policy": "local",
                       "fault_tolerant": True}})
    api.post("/services/payment-refunds/plugins", {
        "name": "acl", "config": {"allow": ["admins", "merchants"]}})
    api.post("/routes/payment-checkout-api/plugins", {
        "name": "cors", "config": {"origins": ["https://shop.example"],
                                   "max_age": 3600}})
    api.post("/consumers/partner-acme/plugins", {
        "name": "rate-limiting", "config": {"minute": 100.5}})
    api.post("/plugins", {"name": "request-termination",
                          "route": {"id": maintenance["id"]},
                          "config": {"status_code": 503,
                                     "message": "back soon / maintenance"}})
    api.post("/plugins", {"name": "rate-limiting",
                          "consumer_group": {"id": groups[0]["id"]},
                          "config": {"minute": 10000}})

    bulk = []
    for i in range(scale):
        consumer = api.post("/consumers", {"username": "bulk-%05d" % i,
                                           "tags": ["bulk"]})
        api.post("/consumers/%s/key-auth" % consumer["id"],
                 {"key": "bulk-key-%05d" % i})
        api.post("/consumers/%s/acls" % consumer["id"],
                 {"group": "bulk-%d" % (i % 10)})
        bulk.append(consumer["id"])
    if bulk:
        # One group holding every bulk consumer: several pages of members.
        api.post("/consumer_groups", {"name": "bulk"})
        api.post("/consumer_groups/bulk/consumers", {"consumer": bulk})


def dump(api, skip):
    out = {}
    for name, path in KINDS:
        if name in skip:
            continue
        if name == "targets":
            items = []
            for upstream in api.all("/upstreams"):
                items.extend(api.all("/upstreams/%s/targets"
                                     % upstream["id"]))
        elif name == "consumer_group_consumers":
            items = []
            for group in api.all("/consumer_groups"):
                items.extend({"consumer_group": group["id"],
                              "consumer": consumer["id"]}
                             for consumer in api.all(
                                 "/consumer_groups/%s/consumers"
                                 % group["id"], "consumers"))
            out[name] = sorted(items, key=lambda m: (m["consumer_group"],
                                                     m["consumer"]))
            continue
        else:
            items = api.all("/" + path)
        for item in items:
            item.pop("updated_at", None)
        if items:
            out[name] = sorted(items, key=lambda e: e["id"])
    if not out.get("consumer_group_consumers"):
        out.pop("consumer_group_consumers", None)
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=("seed", "dump", "count", "post",
                                            "delete", "requests", "call"))
    parser.add_argument("url")
    parser.add_argument("path", nargs="?")
    parser.add_argument("body", nargs="?")
    parser.add_argument("extra", nargs="?")
    parser.add_argument("--token")
    parser.add_argument("--scale", type=int, default=0)
    parser.add_argument("--skip", action="append", default=[])
    args = parser.parse_args()
    api = Api(args.url, args.token)
    if args.command == "seed":
        seed(api, args.scale)
    elif args.command == "requests":
        print(api.call("GET", "/status")["server"]["total_requests"])
    elif args.command == "post":
        api.post(args.path, json.loads(args.body))
    elif args.command == "call":
        api.call(args.path, args.body, json.loads(args.extra))
    elif args.command == "delete":
        api.call("DELETE", args.path)
    elif args.command == "dump":
        print(json.dumps(dump(api, set(args.skip)), indent=1,
                         sort_keys=True))
    else:
        print(sum(len(v) for v in dump(api, set()).values()))


if __name__ == "__main__":
    main()
