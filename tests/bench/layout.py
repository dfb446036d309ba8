#!/usr/bin/env python3
"""Write repositories, tags and blobs straight into the reference registry's storage, for run.sh.

The reference registry (CNCF distribution 2.8, filesystem storage driver)
keeps everything as files under ROOT/docker/registry/v2:

  blobs/sha256/<first 2 hex>/<hex>/data                       blob content
  repositories/<name>/_layers/sha256/<hex>/link               blob linked into <name>
  repositories/<name>/_manifests/revisions/sha256/<hex>/link  manifest of <name>
  repositories/<name>/_manifests/tags/<tag>/current/link      what <tag> points to
  repositories/<name>/_manifests/tags/<tag>/index/sha256/<hex>/link

A link file contains the digest text ("sha256:<hex>") and nothing else.
Filling that registry through its API takes minutes for 10,000 items, so
run.sh fills it through the API for a limited time and writes the rest here.
Each mode takes the arguments of the populate.py mode of the same name, with
the storage root in place of the URL.  It creates the files that mode's
requests create, up to the same total, and leaves items that exist already
as they are.  It prints "done=N seconds=S" with the number of items it wrote.

  repos ROOT N --base REPO --blob DIGEST --manifest FILE
      repositories bench/cat/rNNNNN with DIGEST linked and FILE tagged
      "latest" (--base, the mount source, is not needed here and ignored)
  tags ROOT REPO N --manifest FILE
      tags tNNNNN of REPO pointing to FILE
  blobs ROOT REPO N
      distinct small blobs linked into REPO until REPO links N blobs
"""

import argparse
import hashlib
import os
import sys
import time


class Store:
    """The v2 folder of a distribution storage root."""

    def __init__(self, root):
        self.v2 = os.path.join(root, "docker", "registry", "v2")

    def blob_put(self, data):
        """Write DATA as a blob unless it exists, and return its digest."""
        hexdigest = hashlib.sha256(data).hexdigest()
        path = os.path.join(self.v2, "blobs", "sha256", hexdigest[:2], hexdigest, "data")
        if not os.path.exists(path):
            write_file(path, data)
        return "sha256:" + hexdigest

    def repo_path(self, repo, *parts):
        return os.path.join(self.v2, "repositories", *repo.split("/"), *parts)

    def layer_link(self, repo, digest):
        hexdigest = digest.split(":", 1)[1]
        write_file(self.repo_path(repo, "_layers", "sha256", hexdigest, "link"), digest.encode())

    def manifest_link(self, repo, digest):
        hexdigest = digest.split(":", 1)[1]
        write_file(self.repo_path(repo, "_manifests", "revisions", "sha256", hexdigest, "link"),
                   digest.encode())

    def tag_path(self, repo, tag):
        return self.repo_path(repo, "_manifests", "tags", tag, "current", "link")

    def tag_link(self, repo, tag, digest):
        hexdigest = digest.split(":", 1)[1]
        write_file(self.repo_path(repo, "_manifests", "tags", tag, "index", "sha256", hexdigest,
                                  "link"), digest.encode())
        # current/link last: the tag exists for the registry once it is there.
        write_file(self.tag_path(repo, tag), digest.encode())


def write_file(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def run_repos(store, args):
    manifest = store.blob_put(open(args.manifest, "rb").read())
    if not os.path.exists(os.path.join(store.v2, "blobs", "sha256", args.blob[7:9], args.blob[7:],
                                       "data")):
        raise SystemExit(f"layout: blob {args.blob} of --blob is not in the storage")
    done = 0
    for i in range(args.count):
        repo = f"bench/cat/r{i:05d}"
        if os.path.exists(store.tag_path(repo, "latest")):
            continue
        store.layer_link(repo, args.blob)
        store.manifest_link(repo, manifest)
        store.tag_link(repo, "latest", manifest)
        done += 1
    return done


def run_tags(store, args):
    manifest = store.blob_put(open(args.manifest, "rb").read())
    store.manifest_link(args.repo, manifest)
    done = 0
    for i in range(args.count):
        tag = f"t{i:05d}"
        if os.path.exists(store.tag_path(args.repo, tag)):
            continue
        store.tag_link(args.repo, tag, manifest)
        done += 1
    return done


def run_blobs(store, args):
    layers = store.repo_path(args.repo, "_layers", "sha256")
    linked = len(os.listdir(layers)) if os.path.isdir(layers) else 0
    # A salt of its own, so no blob equals one that populate.py uploaded.
    salt = f"layout {time.time_ns()}".encode()
    done = 0
    for i in range(linked, args.count):
        digest = store.blob_put(b"edgecr gc benchmark blob " + salt + b" " + str(i).encode())
        store.layer_link(args.repo, digest)
        done += 1
    return done


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    modes = parser.add_subparsers(dest="mode", required=True)
    repos = modes.add_parser("repos")
    repos.add_argument("root")
    repos.add_argument("count", type=int)
    repos.add_argument("--base")
    repos.add_argument("--blob", required=True)
    repos.add_argument("--manifest", required=True)
    tags = modes.add_parser("tags")
    tags.add_argument("root")
    tags.add_argument("repo")
    tags.add_argument("count", type=int)
    tags.add_argument("--manifest", required=True)
    blobs = modes.add_parser("blobs")
    blobs.add_argument("root")
    blobs.add_argument("repo")
    blobs.add_argument("count", type=int)
    args = parser.parse_args()

    store = Store(args.root)
    if not os.path.isdir(store.v2):
        raise SystemExit(f"layout: {store.v2} does not exist; is {args.root} a storage root "
                         "of the reference registry?")
    start = time.monotonic()
    run = {"repos": run_repos, "tags": run_tags, "blobs": run_blobs}[args.mode]
    done = run(store, args)
    print(f"done={done} seconds={time.monotonic() - start:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
