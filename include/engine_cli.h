/* engine_cli.h — the engine's shell commands: `aiengine event:fire` (start runs through
 * runs.h, print them as JSON) and `aiengine workflows:check` (every step that cannot run,
 * without running anything). Each returns the process exit code. */
#ifndef AIENGINE_ENGINE_CLI_H
#define AIENGINE_ENGINE_CLI_H

#include "cli.h"
#include "config.h"
#include "engine_conf.h"

#include <stdbool.h>

/* The commands' options and help (cli.h), parsed by main.c before the config is read. */
extern const struct cli_command engine_cli_cmd_fire, engine_cli_cmd_cancel, engine_cli_cmd_retry,
    engine_cli_cmd_check;

int engine_cli_fire(const struct config *cfg, const struct cli_args *args);
/* run:cancel ID / run:retry ID (runs_cancel / runs_retry): prints the run as JSON; exit
 * code 1 with the reason when the run's status does not allow it or it does not exist. */
int engine_cli_run_change(const struct config *cfg, bool retry, const struct cli_args *args);
/* Exit code 1 when any step cannot run, 0 when all can. */
int engine_cli_check(const struct config *cfg, const struct engine_conf *ec);

#endif
