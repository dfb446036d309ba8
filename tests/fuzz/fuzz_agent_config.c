/*
 * The agent's configuration file: agent_config_load on a temporary file, then
 * agent_config_finish and the endpoint name, as edgecr-agent reads its file at
 * start.
 */
#include "fuzz.h"

#include "../../agent/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agent_config *config = NULL;
	char path[128], err[512], endpoint[AGENT_ENDPOINT_MAX];

	fuzz_write_temp(data, size, path, sizeof(path));
	if (agent_config_new(&config) < 0)
		abort();
	if (agent_config_load(config, path, err, sizeof(err)) == 0 &&
	    agent_config_finish(config, err, sizeof(err)) == 0)
		(void)agent_endpoint_format(config, endpoint);
	agent_config_free(config);
	unlink(path);
	return 0;
}
