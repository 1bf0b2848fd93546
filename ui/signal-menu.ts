// `K` / F9: choose a signal for every process of the selected container;
// the app then asks to confirm before the limiter sends it.

import type blessed from 'blessed';
import { Menu } from './menu.js';
import { escapeTags } from './view/text.js';

export const SIGNALS: { name: string; what: string }[] = [
  { name: 'SIGTERM', what: 'ask to terminate' },
  { name: 'SIGINT', what: 'interrupt' },
  { name: 'SIGHUP', what: 'hang up / reload' },
  { name: 'SIGQUIT', what: 'quit with core dump' },
  { name: 'SIGKILL', what: 'kill at once' },
  { name: 'SIGUSR1', what: 'user signal 1' },
  { name: 'SIGUSR2', what: 'user signal 2' },
  { name: 'SIGSTOP', what: 'stop' },
  { name: 'SIGCONT', what: 'continue' },
];

export function signalMenu(
  screen: blessed.Widgets.Screen,
  containerName: string,
  onChoose: (signal: string) => void,
): Menu<string> {
  return new Menu<string>(screen, {
    name: 'signal',
    title: 'Send a signal',
    intro: `to every process of {bold}${escapeTags(containerName)}{/bold}`,
    items: SIGNALS.map((s) => ({ value: s.name, label: `${s.name.padEnd(8)} ${s.what}` })),
    onChoose,
  });
}
