// Every tstop command, in the order `tstop --help` lists them. Each file
// declares its flags; implementations load on demand.

import type { CommandSpec } from '../command.js';
import { dashboardCommand } from './dashboard.js';
import { exportCommand } from './export.js';
import { freezeCommand, killCommand, limitCommand, thawCommand } from './limit.js';
import { psCommand, rmCommand, stopCommand } from './ps.js';
import { execCommand, runCommand } from './run.js';
import { snapshotCommand } from './snapshot.js';

export const COMMANDS: CommandSpec[] = [
  dashboardCommand,
  snapshotCommand,
  limitCommand,
  freezeCommand,
  thawCommand,
  killCommand,
  exportCommand,
  runCommand,
  execCommand,
  psCommand,
  stopCommand,
  rmCommand,
];
