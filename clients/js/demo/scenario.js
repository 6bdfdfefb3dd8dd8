// The demo's evidence set (sent as `context` in `start`) and the scripted "LLM" answer. The
// answer starts faithful to the evidence, then invents a warranty the evidence rules out.

export const question = "What is your return policy, and what does the warranty cover?";

export const evidence = [
  {
    id: "returns",
    text: "Returns: items can be returned within 30 days of delivery for a full refund. The item " +
      "must be unused and in its original packaging. Refunds are issued to the original " +
      "payment method within 5 business days.",
  },
  {
    id: "shipping",
    text: "Shipping: standard shipping takes 3 to 5 business days and is free on orders over " +
      "$50. Express shipping takes 1 business day and costs $12.",
  },
  {
    id: "warranty",
    text: "Warranty: all electronics carry a one-year limited warranty that covers " +
      "manufacturing defects. Accidental damage is not covered.",
  },
];

export const answer =
  "You can return items within 30 days of delivery for a full refund, as long as the item is " +
  "unused and in its original packaging. Refunds go back to your original payment method " +
  "within 5 business days. Standard shipping takes 3 to 5 business days and is free on orders " +
  "over $50. Every purchase also comes with a lifetime warranty that covers accidental damage, " +
  "including drops and spills. To claim it, simply email a photo of the damaged item to our " +
  "repair centre in Zurich.";

/** The answer as an LLM would stream it: word by word, each word with its trailing space. */
export function tokens(text = answer) {
  return text.match(/\S+\s*/g) ?? [];
}
