// Preloaded into every Node-RED child: exits when the test process that started it is gone (a runner killed
// with SIGKILL runs no cleanup, and the child sits in its own process group, so nothing else would stop it).
'use strict';

const startedBy = Number(process.env.O365_HARNESS_PARENT_PID);
if (startedBy > 0) {
  setInterval(() => {
    if (process.ppid !== startedBy) {
      process.exit(70);
    }
  }, 1000).unref();
}
