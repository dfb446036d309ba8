/*
 * The registry's configuration file: reg_config_load on a temporary file,
 * then reg_config_validate, as edgecr-registry reads its file at start.
 */
#include "fuzz.h"

#include "../../registry/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reg_config config;
	char path[128], err[512];

	fuzz_write_temp(data, size, path, sizeof(path));
	if (reg_config_init(&config) < 0)
		abort();
	if (reg_config_load(&config, path, err, sizeof(err)) == 0)
		(void)reg_config_validate(&config, err, sizeof(err));
	reg_config_release(&config);
	reg_config_release(&config);
	unlink(path);
	return 0;
}
