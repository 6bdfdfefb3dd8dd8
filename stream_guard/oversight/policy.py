from dataclasses import dataclass


@dataclass(frozen=True)
class Decision:
    label: str
    halt: bool
    reason: str | None


class HaltPolicy:
    def __init__(self, threshold, contradiction_threshold=0.8, consecutive=2, clear_margin=0.15):
        self.t = threshold; self.c = contradiction_threshold; self.n = consecutive; self.m = clear_margin; self.run = 0

    def observe(self, support, contradiction):
        if support >= self.t:
            self.run = 0
            return Decision("supported", False, None)
        if contradiction >= self.c:
            return Decision("contradicted", True, "contradicted")
        self.run += 1
        if support < self.t - self.m:
            return Decision("unsupported", True, "unsupported")
        return Decision("unsupported", self.run >= self.n, "unsupported_run" if self.run >= self.n else None)
