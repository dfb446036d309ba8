/*
 * Prometheus metrics of the agent; see metrics.h.
 */
#include "metrics.h"

#include <stdatomic.h>

#include "provision.h"

/* The statuses the API sends; any other is counted as "other". */
static const unsigned status_codes[] = {
	200, 400, 401, 403, 404, 405, 409, 413, 500, 502, 503,
};
#define STATUS_SLOTS (sizeof(status_codes) / sizeof(status_codes[0]) + 1)

static atomic_ullong api_responses[STATUS_SLOTS];
static atomic_ullong secret_runs, secret_errors;

void agent_metrics_api_response(unsigned status)
{
	size_t i;

	for (i = 0; i < STATUS_SLOTS - 1; i++)
		if (status_codes[i] == status)
			break;
	atomic_fetch_add_explicit(&api_responses[i], 1, memory_order_relaxed);
}

void agent_metrics_secret_run(void)
{
	atomic_fetch_add_explicit(&secret_runs, 1, memory_order_relaxed);
}

void agent_metrics_secret_error(void)
{
	atomic_fetch_add_explicit(&secret_errors, 1, memory_order_relaxed);
}

static void write_header(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void write_api(FILE *out)
{
	write_header(out, "edgecr_agent_api_requests_total", "counter",
		     "API requests answered, by HTTP status code.");
	for (size_t i = 0; i < STATUS_SLOTS; i++) {
		unsigned long long n = atomic_load_explicit(&api_responses[i], memory_order_relaxed);

		if (i < STATUS_SLOTS - 1)
			fprintf(out, "edgecr_agent_api_requests_total{code=\"%u\"} %llu\n",
				status_codes[i], n);
		else
			fprintf(out, "edgecr_agent_api_requests_total{code=\"other\"} %llu\n", n);
	}
}

static void write_registry(struct agent *agent, FILE *out)
{
	struct agent_registry_status status;

	agent_supervisor_status(agent->supervisor, &status);
	write_header(out, "edgecr_agent_registry_up", "gauge",
		     "1 while the registry process runs and has sent READY=1, else 0.");
	fprintf(out, "edgecr_agent_registry_up %d\n", status.state == AGENT_REGISTRY_RUNNING);
	write_header(out, "edgecr_agent_registry_restarts_total", "counter",
		     "Restarts of the registry after it ended unexpectedly.");
	fprintf(out, "edgecr_agent_registry_restarts_total %u\n", status.restart_count);
}

static void write_secrets(FILE *out)
{
	write_header(out, "edgecr_agent_secret_reconcile_runs_total", "counter",
		     "Passes of the Kubernetes thread over every namespace.");
	fprintf(out, "edgecr_agent_secret_reconcile_runs_total %llu\n",
		atomic_load_explicit(&secret_runs, memory_order_relaxed));
	write_header(out, "edgecr_agent_secret_reconcile_errors_total", "counter",
		     "Failed steps of that work: kubeconfig loads, requests and watches.");
	fprintf(out, "edgecr_agent_secret_reconcile_errors_total %llu\n",
		atomic_load_explicit(&secret_errors, memory_order_relaxed));
}

/* Writes the certificate's expiry, or nothing while the registry is
 * disabled or its certificate cannot be read. */
static void write_certificate(struct agent *agent, FILE *out)
{
	struct agent_registry_info info;
	bool enabled;

	if (agent_provision_info(agent, &info) < 0)
		return;
	enabled = info.enabled;
	agent_credentials_clear(&info.credentials);
	write_header(out, "edgecr_agent_registry_enabled", "gauge",
		     "1 when the registry is enabled (PUT /v1/registry), else 0.");
	fprintf(out, "edgecr_agent_registry_enabled %d\n", enabled);
	if (!enabled || !info.has_certificate)
		return;
	write_header(out, "edgecr_agent_certificate_expiry_timestamp_seconds", "gauge",
		     "Unix time at which the registry's server certificate expires.");
	fprintf(out, "edgecr_agent_certificate_expiry_timestamp_seconds %lld\n",
		(long long)info.certificate.not_after);
}

void agent_metrics_write(struct agent *agent, FILE *out)
{
	write_api(out);
	write_registry(agent, out);
	write_secrets(out);
	write_certificate(agent, out);
}
