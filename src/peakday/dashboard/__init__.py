"""The live game-day dashboard: a web page that follows a run as it goes, with stop buttons."""
