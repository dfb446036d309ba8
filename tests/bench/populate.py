#!/usr/bin/env python3
"""Fill a registry through the Registry API v2 and time listings, for run.sh.

Requests go one after another on one kept-alive HTTP/1.1 connection without
credentials, so the registry under test must run without authentication.
With --workers W --worker K, a fill mode handles only the items whose index
is K modulo W, so W processes can share one fill.  --skip S leaves out the
first S of those items, which an earlier run with the same --workers and
--worker created, so a fill stopped by its deadline can be completed.
Every mode stops at --deadline seconds and prints "done=N seconds=S" on
standard output; a request with an unexpected status ends it with exit 1.

  repos URL N --base REPO --blob DIGEST --manifest FILE
      mount DIGEST from REPO into bench/cat/rNNNNN and put FILE there as "latest"
  tags URL REPO N --manifest FILE
      put FILE into REPO under the tags tNNNNN
  blobs URL REPO N
      upload N distinct small blobs into REPO (POST, then PUT ?digest=)
  list URL PATH KEY
      GET PATH and every page its Link headers name, and count the entries
      of the JSON array KEY ("repositories" or "tags")
"""

import argparse
import hashlib
import http.client
import json
import sys
import time
import urllib.parse

MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"


class Client:
    """One kept-alive connection to the registry at a plain HTTP URL."""

    def __init__(self, url):
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme != "http":
            raise SystemExit(f"populate: only http:// URLs are supported, got {url}")
        self.conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)

    def request(self, method, path, body=None, headers=None, expected=(200,)):
        self.conn.request(method, path, body=body, headers=headers or {})
        response = self.conn.getresponse()
        data = response.read()
        if response.status not in expected:
            raise SystemExit(
                f"populate: {method} {path} returned {response.status}, expected "
                f"{' or '.join(map(str, expected))}: {data[:200]!r}")
        return response, data


def upload_path(response):
    """Return the path and query of an upload's Location header."""
    location = response.getheader("Location")
    if not location:
        raise SystemExit("populate: upload response has no Location header")
    parts = urllib.parse.urlsplit(location)
    return parts.path + ("?" + parts.query if parts.query else "")


def with_digest(path, digest):
    separator = "&" if "?" in path else "?"
    return f"{path}{separator}digest={urllib.parse.quote(digest)}"


def run_repos(client, args, deadline):
    manifest = open(args.manifest, "rb").read()
    done = 0
    for i in range(args.worker + args.skip * args.workers, args.count, args.workers):
        if time.monotonic() >= deadline:
            break
        repo = f"bench/cat/r{i:05d}"
        query = urllib.parse.urlencode({"mount": args.blob, "from": args.base})
        client.request("POST", f"/v2/{repo}/blobs/uploads/?{query}", body=b"",
                       expected=(201,))
        client.request("PUT", f"/v2/{repo}/manifests/latest", body=manifest,
                       headers={"Content-Type": MANIFEST_TYPE}, expected=(201,))
        done += 1
    return done


def run_tags(client, args, deadline):
    manifest = open(args.manifest, "rb").read()
    done = 0
    for i in range(args.worker + args.skip * args.workers, args.count, args.workers):
        if time.monotonic() >= deadline:
            break
        client.request("PUT", f"/v2/{args.repo}/manifests/t{i:05d}", body=manifest,
                       headers={"Content-Type": MANIFEST_TYPE}, expected=(201,))
        done += 1
    return done


def run_blobs(client, args, deadline):
    # The blobs differ between runs too, so none can already exist.
    salt = f"{time.time_ns()}".encode()
    done = 0
    for i in range(args.worker + args.skip * args.workers, args.count, args.workers):
        if time.monotonic() >= deadline:
            break
        body = b"edgecr gc benchmark blob " + salt + b" " + str(i).encode()
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        response, _ = client.request("POST", f"/v2/{args.repo}/blobs/uploads/", body=b"",
                                     expected=(202,))
        client.request("PUT", with_digest(upload_path(response), digest), body=body,
                       headers={"Content-Type": "application/octet-stream"},
                       expected=(201,))
        done += 1
    return done


def run_list(client, args, deadline):
    path = args.path
    count = 0
    while path and time.monotonic() < deadline:
        response, data = client.request("GET", path)
        count += len(json.loads(data).get(args.key) or [])
        link = response.getheader("Link")
        path = None
        if link:
            # Link: </v2/_catalog?n=100&last=x>; rel="next"
            target = link.split(";")[0].strip().lstrip("<").rstrip(">")
            parts = urllib.parse.urlsplit(target)
            path = parts.path + ("?" + parts.query if parts.query else "")
    return count


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deadline", type=float, default=120,
                        help="seconds after which the mode stops (default 120)")
    parser.add_argument("--workers", type=int, default=1,
                        help="number of processes sharing a fill (default 1)")
    parser.add_argument("--worker", type=int, default=0,
                        help="index of this process among them, from 0 (default 0)")
    parser.add_argument("--skip", type=int, default=0,
                        help="items of this worker already created, left out (default 0)")
    modes = parser.add_subparsers(dest="mode", required=True)
    repos = modes.add_parser("repos")
    repos.add_argument("url")
    repos.add_argument("count", type=int)
    repos.add_argument("--base", required=True)
    repos.add_argument("--blob", required=True)
    repos.add_argument("--manifest", required=True)
    tags = modes.add_parser("tags")
    tags.add_argument("url")
    tags.add_argument("repo")
    tags.add_argument("count", type=int)
    tags.add_argument("--manifest", required=True)
    blobs = modes.add_parser("blobs")
    blobs.add_argument("url")
    blobs.add_argument("repo")
    blobs.add_argument("count", type=int)
    listing = modes.add_parser("list")
    listing.add_argument("url")
    listing.add_argument("path")
    listing.add_argument("key")
    args = parser.parse_args()

    client = Client(args.url)
    start = time.monotonic()
    deadline = start + args.deadline
    run = {"repos": run_repos, "tags": run_tags, "blobs": run_blobs, "list": run_list}[args.mode]
    done = run(client, args, deadline)
    print(f"done={done} seconds={time.monotonic() - start:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
