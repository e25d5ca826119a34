"""CC's documented request limits, per access token: 4 requests per second and 10,000 per day.

The per-second limit is a token bucket: it holds ``burst`` requests (by default the per-second rate,
so 4) and refills at ``rate`` per second.  Five requests at once get four answers and one 429
``throttled``; a client that spaces its requests at the documented rate, or bursts within the bucket,
never sees one.  The daily quota counts admitted requests per UTC day and answers 429
``quota_exceeded`` once it is spent, until 00:00:00 UTC.  Both follow the emulator clock, so tests
move it instead of sleeping.

CC counts per API key; the emulator counts per access token (each configured token plays one API key,
so several tokens can share one emulator in load tests).  Rejected requests (401, 429) are not
counted against the quota.  No rate-limit headers are sent: CC documents none.
"""

from __future__ import annotations

from datetime import date

from emulators.control import Clock

from .errors import ApiError, quota_exceeded, throttled

__all__ = ["RateLimits"]


class RateLimits:
    def __init__(self, clock: Clock, *, rate: float, burst: int, daily_quota: int) -> None:
        self.clock = clock
        self.rate = rate
        self.burst = burst
        self.daily_quota = daily_quota
        self.reset()

    def reset(self) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}  # principal -> (tokens, at)
        self._days: dict[str, tuple[date, int]] = {}  # principal -> (UTC day, requests admitted)

    def admit(self, principal: str) -> ApiError | None:
        """None when the request may go ahead (and is counted); the 429 to answer otherwise."""
        now = self.clock.now()
        day, used = self._days.get(principal, (now.date(), 0))
        if day != now.date():
            day, used = now.date(), 0
        if used >= self.daily_quota:
            return quota_exceeded()
        moment = now.timestamp()
        tokens, at = self._buckets.get(principal, (float(self.burst), moment))
        tokens = min(float(self.burst), tokens + max(0.0, moment - at) * self.rate)
        if tokens < 1.0:
            self._buckets[principal] = (tokens, moment)
            return throttled()
        self._buckets[principal] = (tokens - 1.0, moment)
        self._days[principal] = (day, used + 1)
        return None

    def used_today(self, principal: str) -> int:
        day, used = self._days.get(principal, (self.clock.now().date(), 0))
        return used if day == self.clock.now().date() else 0
