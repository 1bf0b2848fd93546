// A one-line text editor (the filter prompt and the limit form's fields):
// insert at the cursor, Backspace/Delete, Left/Right, Home/End, Ctrl-U.

export interface LineEdit {
  text: string;
  cursor: number;
}

/** The parts of a blessed key event the editors read. */
export interface KeyEvent {
  name?: string;
  full?: string;
  ctrl?: boolean;
  meta?: boolean;
  shift?: boolean;
}

export function lineEdit(text = ''): LineEdit {
  return { text, cursor: text.length };
}

/** Applies a key to the editor; returns whether it was an editing key. */
export function editKey(e: LineEdit, ch: string | undefined, key: KeyEvent): boolean {
  switch (key.full ?? key.name) {
    case 'backspace':
      if (e.cursor > 0) {
        e.text = e.text.slice(0, e.cursor - 1) + e.text.slice(e.cursor);
        e.cursor--;
      }
      return true;
    case 'delete':
      e.text = e.text.slice(0, e.cursor) + e.text.slice(e.cursor + 1);
      return true;
    case 'left':
      e.cursor = Math.max(0, e.cursor - 1);
      return true;
    case 'right':
      e.cursor = Math.min(e.text.length, e.cursor + 1);
      return true;
    case 'home':
    case 'C-a':
      e.cursor = 0;
      return true;
    case 'end':
    case 'C-e':
      e.cursor = e.text.length;
      return true;
    case 'C-u':
      e.text = '';
      e.cursor = 0;
      return true;
  }
  if (ch && !key.ctrl && !key.meta && ch.length === 1 && ch >= ' ' && ch !== '\x7f') {
    e.text = e.text.slice(0, e.cursor) + ch + e.text.slice(e.cursor);
    e.cursor++;
    return true;
  }
  return false;
}
