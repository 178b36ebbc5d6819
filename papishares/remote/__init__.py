"""Remote front ends: the Telegram bot and the JSON API, thin adapters over the commands."""
