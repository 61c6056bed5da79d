"""Where the scores are shown: the leaderboard page, its JSON and CSV, and live updates (SSE)."""
