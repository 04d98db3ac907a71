# Example configuration, cron and systemd units.
