/** Generates benchmark text: lines of words drawn from a fixed vocabulary (seeded, repeatable). */
import { createWriteStream } from "node:fs";

/** Writes `words` words, 10 per line, from a vocabulary of `vocabulary` distinct words; resolves when flushed. */
export async function writeText(path: string, words: number, vocabulary = 100_000): Promise<void> {
  let seed = 42;
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const vocab = Array.from({ length: vocabulary }, (_, i) => (i % 7 === 0 ? `Word${i}` : `w${i.toString(36)}`));
  const out = createWriteStream(path);
  let line: string[] = [];
  let chunk = "";
  for (let i = 0; i < words; i++) {
    line.push(vocab[Math.floor(rnd() * vocabulary)]!);
    if (line.length === 10) {
      chunk += `${line.join(" ")}\n`;
      line = [];
      if (chunk.length > 1 << 16) {
        if (!out.write(chunk)) await new Promise<void>((r) => out.once("drain", () => r()));
        chunk = "";
      }
    }
  }
  if (line.length) chunk += `${line.join(" ")}\n`;
  out.end(chunk);
  await new Promise<void>((r) => out.once("finish", () => r()));
}
