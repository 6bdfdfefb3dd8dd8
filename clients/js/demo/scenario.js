// The demo's scenario, shared with the Python examples (clients/python): an evidence set (sent
// as `context` in `start`) and a scripted "LLM" answer that starts faithful to the evidence, then
// invents a warranty the evidence rules out.

const response = await fetch(new URL("./scenario.json", import.meta.url));
if (!response.ok) throw new Error(`scenario.json: HTTP ${response.status}`);

export const { question, evidence, answer } = await response.json();

/** The answer as an LLM would stream it: word by word, each word with its trailing space. */
export function tokens(text = answer) {
  return text.match(/\S+\s*/g) ?? [];
}
