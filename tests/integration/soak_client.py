"""Load for t_soak.sh: CONNECTIONS threads, each on one keep-alive TLS
connection with Basic auth, push and pull small images for SECONDS, while
the main thread samples the registry's RSS and open descriptors from /proc.

Usage: soak_client.py PORT CA USER PASSWORD PID SECONDS CONNECTIONS WARMUP OUT.json

Each thread loops over: a monolithic blob push, a chunked blob push (POST,
PATCH, PUT), a manifest PUT naming both, then GET of the manifest and HEAD
and GET of each blob.  A thread gives up an image at its first failed
request, so that a failure is reported once and not again as the
MANIFEST_BLOB_UNKNOWN or 404 that the missing blob causes later.  Connections come from 127.0.0.1 to 127.0.0.4, so no
address passes the per-address connection cap.  Any status other than the
expected one, or a broken connection, counts as a failed request.
"""
import base64
import hashlib
import http.client
import json
import os
import ssl
import sys
import threading
import time

port, ca, user, password, pid = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
seconds, connections, warmup = float(sys.argv[6]), int(sys.argv[7]), float(sys.argv[8])
out_path = sys.argv[9]
# Seconds a single request may take before it counts as failed.
request_timeout = float(os.environ.get("SOAK_REQUEST_TIMEOUT", "120"))

AUTH = "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
CONTEXT = ssl.create_default_context(cafile=ca)
CONTEXT.check_hostname = False
stop_at = time.time() + seconds
lock = threading.Lock()
latencies = []
failures = []
counts = {"requests": 0, "images": 0}


def sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Client:
    def __init__(self, index):
        self.source = "127.0.0.%d" % (1 + index % 4)
        self.repo = "soak/r%d" % (index % 32)
        self.conn = None

    def connect(self):
        self.conn = http.client.HTTPSConnection("127.0.0.1", int(port), context=CONTEXT,
                                                source_address=(self.source, 0),
                                                timeout=request_timeout)

    def request(self, method, path, body=None, headers=None, expect=200):
        all_headers = {"Authorization": AUTH}
        all_headers.update(headers or {})
        if self.conn is None:
            self.connect()
        start = time.time()
        try:
            self.conn.request(method, path, body=body, headers=all_headers)
            response = self.conn.getresponse()
            data = response.read()
            status = response.status
            location = response.getheader("Location")
            if response.getheader("Connection", "").lower() == "close":
                self.conn.close()
                self.conn = None
        except (OSError, http.client.HTTPException) as error:
            self.conn.close()
            self.conn = None
            status, data, location = "error: %s" % error, b"", None
        elapsed = time.time() - start
        with lock:
            counts["requests"] += 1
            latencies.append(elapsed)
            if status != expect:
                failures.append("%s %s: expected %s, got %s %s" % (method, path, expect, status,
                                                                  data[:200]))
        return status, data, location

    def push_image(self):
        layer = os.urandom(1024 + int.from_bytes(os.urandom(2), "big") % 8192)
        config = json.dumps({"architecture": "amd64", "os": "linux", "n": os.urandom(8).hex()}).encode()
        status, _, _ = self.request("POST", "/v2/%s/blobs/uploads/?digest=%s" % (self.repo, sha(config)),
                                    config, {"Content-Type": "application/octet-stream"}, expect=201)
        if status != 201:
            return None
        status, _, location = self.request("POST", "/v2/%s/blobs/uploads/" % self.repo, expect=202)
        if status != 202 or not location:
            return None
        status, _, location = self.request("PATCH", location, layer,
                                           {"Content-Type": "application/octet-stream"}, expect=202)
        if status != 202 or not location:
            return None
        separator = "&" if "?" in location else "?"
        status, _, _ = self.request("PUT", location + separator + "digest=" + sha(layer), b"",
                                    expect=201)
        if status != 201:
            return None
        manifest = json.dumps({
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                       "digest": sha(config), "size": len(config)},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                        "digest": sha(layer), "size": len(layer)}],
        }).encode()
        tag = "t%s" % os.urandom(4).hex()
        status, _, _ = self.request("PUT", "/v2/%s/manifests/%s" % (self.repo, tag), manifest,
                                    {"Content-Type": "application/vnd.oci.image.manifest.v1+json"},
                                    expect=201)
        if status != 201:
            return None
        return tag, manifest, [sha(config), sha(layer)], layer

    def pull_image(self, tag, manifest, digests, layer):
        _, data, _ = self.request("GET", "/v2/%s/manifests/%s" % (self.repo, tag),
                                  headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})
        if data != manifest:
            with lock:
                failures.append("manifest %s pulled different bytes" % tag)
        for digest in digests:
            self.request("HEAD", "/v2/%s/blobs/%s" % (self.repo, digest))
        _, data, _ = self.request("GET", "/v2/%s/blobs/%s" % (self.repo, digests[1]))
        if data != layer:
            with lock:
                failures.append("layer %s pulled different bytes" % digests[1])

    def run(self):
        while time.time() < stop_at:
            image = self.push_image()
            if image is None:
                continue
            self.pull_image(*image)
            with lock:
                counts["images"] += 1


def sample():
    with open("/proc/%s/status" % pid) as status:
        rss = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
    fds = len(os.listdir("/proc/%s/fd" % pid))
    return rss, fds


def main():
    threads = [threading.Thread(target=Client(i).run, daemon=True) for i in range(connections)]
    started = time.time()
    for thread in threads:
        thread.start()

    samples = []
    while any(thread.is_alive() for thread in threads):
        rss, fds = sample()
        samples.append({"t": round(time.time() - started, 1), "rss_kib": rss, "fds": fds})
        time.sleep(2)
    for thread in threads:
        thread.join()

    ordered = sorted(latencies)
    # Growth compares the highest sample of the first third after the
    # warm-up with the highest of the last third, so that descriptors and
    # buffers of requests in flight at one sample do not count as growth.
    after = [s for s in samples if s["t"] >= warmup]
    third = max(1, len(after) // 3)
    early, late = after[:third], after[-third:]
    result = {
        "requests": counts["requests"], "images": counts["images"],
        "failures": failures[:20], "failed": len(failures),
        "p50_ms": round(1000 * ordered[len(ordered) // 2], 1) if ordered else None,
        "p99_ms": round(1000 * ordered[int(len(ordered) * 0.99)], 1) if ordered else None,
        "max_ms": round(1000 * ordered[-1], 1) if ordered else None,
        "seconds": round(time.time() - started, 1),
        "samples": samples,
        "early_rss_kib": max(s["rss_kib"] for s in early) if early else 0,
        "late_rss_kib": max(s["rss_kib"] for s in late) if late else 0,
        "early_fds": max(s["fds"] for s in early) if early else 0,
        "late_fds": max(s["fds"] for s in late) if late else 0,
    }

    with open(out_path, "w") as out:
        json.dump(result, out, indent=1)


main()
