"""``manga-assist token``: a development token (HS256) that a local ``serve --auth jwt`` accepts when
both share ``AUTH_HS256_SECRET``: a customer's (``--customer ID``) or an agent's (``--agent NAME``,
in ``AUTH_AGENT_GROUP``). It carries ``AUTH_ISSUER`` and ``AUTH_AUDIENCE`` when those are set, as the
authorizer checks them. Printed alone on standard output, for ``$(manga-assist token)``."""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid

from joserfc import jwk, jwt

from entrypoints.settings import ConfigurationError, load_authorizer_settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    who = parser.add_mutually_exclusive_group()
    who.add_argument("--customer", metavar="ID", help="the customer id (default: a new dev-… id)")
    who.add_argument("--agent", metavar="NAME", help="an agent's token: NAME in the agent group")
    parser.add_argument("--minutes", type=int, default=60, help="valid for this long (default 60)")


def mint(env: dict[str, str], subject: str, agent: bool, minutes: int, now: float | None = None) -> str:
    if not env.get("AUTH_HS256_SECRET", "").strip():
        raise ConfigurationError("set AUTH_HS256_SECRET (the same value as the server's) to mint a token")
    settings = load_authorizer_settings({**env, "AUTH_MODE": "jwt"})
    secret = settings["hs256_secret"]
    issued = int(time.time() if now is None else now)
    claims: dict[str, object] = {"sub": subject, "iat": issued, "exp": issued + 60 * minutes}
    if settings["issuer"]:
        claims["iss"] = settings["issuer"]
    if settings["audience"]:
        claims["aud"] = settings["audience"]
    if agent:
        claims["groups"] = [settings["agent_group"]]
    return jwt.encode({"alg": "HS256", "typ": "JWT"}, claims, jwk.OctKey.import_key(secret.encode("utf-8")))


def run(args: argparse.Namespace) -> int:
    if args.minutes < 1:
        print("--minutes must be at least 1", file=sys.stderr)
        return 2
    subject = args.agent or args.customer or f"dev-{uuid.uuid4().hex[:12]}"
    try:
        token = mint(dict(os.environ), subject, agent=bool(args.agent), minutes=args.minutes)
    except ConfigurationError as error:
        print(f"cannot mint a token: {error}", file=sys.stderr)
        return 2
    print(token)
    return 0
