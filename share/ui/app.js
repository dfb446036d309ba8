/*
 * The registry page: reads GET /v1/registry and GET /v1/registry/repositories
 * from the agent that served it, deletes tags with DELETE
 * /v1/registry/repositories/NAME/manifests/TAG and starts garbage collection
 * with POST /v1/registry/gc.  State-changing requests
 * carry the header X-Edgecr-Request, which the agent requires (CSRF check).
 */
"use strict";

let language = "en";

function text(key, values) {
	const table = window.EDGECR_TEXTS[language] || window.EDGECR_TEXTS.en;
	let s = table[key] || window.EDGECR_TEXTS.en[key] || key;
	for (const [name, value] of Object.entries(values || {}))
		s = s.split("{" + name + "}").join(String(value));
	return s;
}

function setLanguage(code) {
	language = window.EDGECR_TEXTS[code] ? code : "en";
	document.documentElement.lang = language === "pt" ? "pt-PT" : "en";
	for (const node of document.querySelectorAll("[data-t]"))
		node.textContent = text(node.dataset.t);
	document.getElementById("lang-en").setAttribute("aria-pressed", language === "en");
	document.getElementById("lang-pt").setAttribute("aria-pressed", language === "pt");
}

function showMessage(message, isError) {
	const node = document.getElementById("message");
	node.textContent = message;
	node.className = isError ? "message error" : "message";
	node.hidden = false;
}

function setText(id, value) {
	document.getElementById(id).textContent = value === null || value === undefined || value === "" ? "—" : value;
}

function formatBytes(n) {
	if (n === null || n === undefined)
		return "—";
	const units = ["B", "KiB", "MiB", "GiB", "TiB"];
	let i = 0;
	while (n >= 1024 && i < units.length - 1) {
		n /= 1024;
		i++;
	}
	return (i === 0 ? n : n.toFixed(1)) + " " + units[i];
}

function formatTime(iso) {
	if (!iso)
		return "—";
	const locale = language === "pt" ? "pt-PT" : "en";
	return new Date(iso).toLocaleString(locale);
}

async function api(method, path) {
	const init = { method: method, credentials: "same-origin", headers: {} };
	if (method !== "GET")
		init.headers["X-Edgecr-Request"] = "1";
	const response = await fetch(path, init);
	const body = await response.json().catch(() => null);
	if (!response.ok) {
		const error = new Error(body && body.error ? body.error.message : response.statusText);
		error.code = body && body.error ? body.error.code : String(response.status);
		throw error;
	}
	return body;
}

function showStatus(r) {
	setText("endpoint", r.endpoint);
	setText("ip", r.ipAddress);
	setText("state", r.registry.state);
	setText("pid", r.registry.pid);
	setText("uptime", text("seconds", { n: r.registry.uptimeSeconds }));
	setText("restarts", r.registry.restartCount);
	setText("secrets", r.kubernetesSecrets ? r.kubernetesSecrets.state : null);
	const c = r.certificate;
	if (c) {
		setText("subject", c.subject);
		setText("sans", c.dnsNames.concat(c.ipAddresses).join(", "));
		setText("expires", formatTime(c.notAfter));
		setText("fingerprint", c.sha256Fingerprint);
	}
	const s = r.storage;
	if (s) {
		setText("used", text("used", { used: formatBytes(s.usedBytes) }));
		setText("limit", s.limitBytes ? text("limit", { limit: formatBytes(s.limitBytes) }) : text("no-limit"));
		const bar = document.getElementById("usage");
		bar.max = s.limitBytes || Math.max(s.usedBytes, 1);
		bar.value = s.limitBytes ? s.usedBytes : 0;
		setText("last-gc", s.lastGc ? text("gc-result", {
			time: formatTime(s.lastGc.startedAt),
			bytes: formatBytes(s.lastGc.bytesFreed),
			blobs: s.lastGc.blobs,
		}) : text("never"));
	}
}

/* POST /v1/registry/gc returns when the collection has ended, so the button
 * stays disabled until then. */
async function collectGarbage() {
	const button = document.getElementById("gc-now");
	button.disabled = true;
	showMessage(text("gc-running"), false);
	try {
		const result = await api("POST", "/v1/registry/gc");
		showMessage(text("gc-done", { blobs: result.blobs, bytes: formatBytes(result.bytesFreed) }), false);
	} catch (e) {
		showMessage(text("failed", { message: e.message }), true);
	}
	button.disabled = false;
	await refresh();
}

async function deleteTag(repository, tag) {
	if (!window.confirm(text("confirm-delete", { repository: repository, tag: tag })))
		return;
	try {
		await api("DELETE", "/v1/registry/repositories/" + repository + "/manifests/" + encodeURIComponent(tag));
		showMessage(text("deleted", { repository: repository, tag: tag }), false);
	} catch (e) {
		showMessage(text("failed", { message: e.message }), true);
	}
	await loadRepositories();
}

function cell(row, value, className) {
	const td = document.createElement("td");
	td.textContent = value;
	if (className)
		td.className = className;
	row.appendChild(td);
}

async function loadRepositories() {
	const body = document.querySelector("#repositories tbody");
	let data;
	try {
		data = await api("GET", "/v1/registry/repositories");
	} catch (e) {
		showMessage(text("failed", { message: e.message }), true);
		return;
	}
	body.replaceChildren();
	let count = 0;
	for (const repo of data.repositories) {
		for (const t of repo.tags) {
			const row = document.createElement("tr");
			row.dataset.repository = repo.name;
			row.dataset.tag = t.tag;
			cell(row, repo.name);
			cell(row, t.tag);
			cell(row, t.digest ? t.digest.slice(0, 19) + "…" : "—", "digest");
			cell(row, formatBytes(t.sizeBytes));
			cell(row, formatTime(t.pushedAt));
			const td = document.createElement("td");
			const button = document.createElement("button");
			button.type = "button";
			button.className = "delete";
			button.textContent = text("delete");
			button.addEventListener("click", () => deleteTag(repo.name, t.tag));
			td.appendChild(button);
			row.appendChild(td);
			body.appendChild(row);
			count++;
		}
	}
	document.getElementById("no-repositories").hidden = count > 0;
	document.getElementById("repositories").dataset.loaded = "true";
}

async function loadStatus() {
	try {
		const r = await api("GET", "/v1/registry");
		if (!r.enabled) {
			showMessage(text("disabled"), true);
			return false;
		}
		showStatus(r);
		return true;
	} catch (e) {
		showMessage(text("failed", { message: e.message }), true);
		return false;
	}
}

async function copyEndpoint() {
	const value = document.getElementById("endpoint").textContent;
	try {
		await navigator.clipboard.writeText(value);
	} catch (e) {
		const range = document.createRange();
		range.selectNodeContents(document.getElementById("endpoint"));
		window.getSelection().removeAllRanges();
		window.getSelection().addRange(range);
		document.execCommand("copy");
	}
	showMessage(text("copied"), false);
}

/* Saves a certificate through fetch, so a failure shows as a message instead
 * of a saved error document.  The file name comes from Content-Disposition. */
async function download(event) {
	const link = event.currentTarget;
	event.preventDefault();
	try {
		const response = await fetch(link.href, { credentials: "same-origin" });
		if (!response.ok) {
			const body = await response.json().catch(() => null);
			throw new Error(body && body.error ? body.error.message : response.statusText);
		}
		const disposition = response.headers.get("Content-Disposition") || "";
		const match = /filename="([^"]+)"/.exec(disposition);
		const url = URL.createObjectURL(await response.blob());
		const save = document.createElement("a");
		save.href = url;
		save.download = match ? match[1] : link.pathname.split("/").pop();
		document.body.appendChild(save);
		save.click();
		save.remove();
		setTimeout(() => URL.revokeObjectURL(url), 10000);
	} catch (e) {
		showMessage(text("failed", { message: e.message }), true);
	}
}

async function refresh() {
	if (await loadStatus())
		await loadRepositories();
}

document.addEventListener("DOMContentLoaded", () => {
	const stored = window.localStorage.getItem("edgecr-language");
	setLanguage(stored || document.documentElement.lang.slice(0, 2));
	for (const code of ["en", "pt"]) {
		document.getElementById("lang-" + code).addEventListener("click", async () => {
			window.localStorage.setItem("edgecr-language", code);
			setLanguage(code);
			await refresh();
		});
	}
	document.getElementById("copy").addEventListener("click", copyEndpoint);
	for (const link of document.querySelectorAll(".downloads a"))
		link.addEventListener("click", download);
	document.getElementById("refresh").addEventListener("click", refresh);
	document.getElementById("gc-now").addEventListener("click", collectGarbage);
	refresh();
});
