/**
 * Server-Sent Events parsed from the text of a streamed fetch (the dashboard reads `/events` with
 * fetch rather than EventSource because EventSource cannot send an Authorization header). It takes
 * what the JobManager writes: `event:` and `data:` lines ending in `\n` (a `\r` before it is dropped),
 * a blank line after each event, comment lines (`: heartbeat`) and `retry:` ignored. A pure module:
 * unit-tested without a browser.
 */

/** One event: its type (`message` when it named none) and its data lines joined by `\n`. */
export interface StreamEvent {
  type: string;
  data: string;
}

export class EventStreamParser {
  private buffer = "";

  /** Adds a chunk of the stream; returns the events it completed. */
  push(chunk: string): StreamEvent[] {
    this.buffer += chunk;
    const events: StreamEvent[] = [];
    for (let end = this.blockEnd(); end >= 0; end = this.blockEnd()) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end).replace(/^\r?\n\r?\n/, "");
      const ev = parseBlock(block);
      if (ev) events.push(ev);
    }
    return events;
  }

  /** Where the first complete block ends (before its blank line), or -1. */
  private blockEnd(): number {
    const m = /\r?\n\r?\n/.exec(this.buffer);
    return m ? m.index : -1;
  }
}

function parseBlock(block: string): StreamEvent | undefined {
  let type = "message";
  const data: string[] = [];
  for (const line of block.split("\n")) {
    const l = line.endsWith("\r") ? line.slice(0, -1) : line;
    if (l === "" || l.startsWith(":")) continue;
    const colon = l.indexOf(":");
    const field = colon < 0 ? l : l.slice(0, colon);
    const value = colon < 0 ? "" : l.slice(colon + 1).replace(/^ /, "");
    if (field === "event") type = value;
    else if (field === "data") data.push(value);
  }
  return data.length > 0 ? { type, data: data.join("\n") } : undefined;
}
