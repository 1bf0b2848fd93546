// The header: host, kernel, cgroup mode, CPU and memory bars, host PSI,
// container count, interval, pause and clock (drawn from view/header.ts).

import blessed from 'blessed';
import { headerLines, type HeaderInput } from './view/header.js';
import { spansToTags } from './view/text.js';

export class HeaderWidget {
  readonly box: blessed.Widgets.BoxElement;

  constructor(parent: blessed.Widgets.Node) {
    this.box = blessed.box({ parent, top: 0, left: 0, width: '100%', height: 3, tags: true, wrap: false });
  }

  render(input: Omit<HeaderInput, 'width'>): void {
    const lines = headerLines({ ...input, width: this.box.width as number });
    this.box.setContent(lines.map(spansToTags).join('\n'));
  }
}
