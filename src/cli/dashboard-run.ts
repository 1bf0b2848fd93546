// Running a built dashboard, the same for the live and the replay faces: a
// start-up problem goes to its status line, and a failure to start gives the
// terminal back before the error reaches main.

import type { Dashboard } from '../../ui/app.js';

export async function runDashboardApp(app: Dashboard, problem: string | null): Promise<number> {
  if (problem) app.status.show(problem, 'warn', 10);
  try {
    await app.start();
  } catch (err) {
    app.quit();
    throw err;
  }
  return 0;
}
