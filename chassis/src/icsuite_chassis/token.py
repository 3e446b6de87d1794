"""Mint a development token: ``python -m icsuite_chassis.token --role agent --sub a-1``."""

from __future__ import annotations

import argparse
import os

from .auth import ROLES, mint_token
from .settings import DEVELOPMENT_JWT_SECRET


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Print a signed development JWT (HS256).")
    parser.add_argument("--role", action="append", choices=ROLES, required=True,
                        help="a role of the token; repeat for several")
    parser.add_argument("--sub", default="dev-user", help="the agent's or system's id")
    parser.add_argument("--ttl", type=int, default=8 * 3600, help="seconds until it expires")
    parser.add_argument("--skill", action="append", help="a skill of the agent (claim skills); repeat for several")
    parser.add_argument("--language", action="append", help="a language of the agent (claim languages)")
    args = parser.parse_args(argv)
    secret = os.environ.get("IC_JWT_SECRET", DEVELOPMENT_JWT_SECRET)
    print(mint_token(secret, args.sub, args.role, args.ttl, issuer=os.environ.get("IC_JWT_ISSUER"),
                     audience=os.environ.get("IC_JWT_AUDIENCE"), skills=args.skill, languages=args.language))


if __name__ == "__main__":
    main()
