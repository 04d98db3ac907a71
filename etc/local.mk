# Example configuration, cron file, systemd units, Prometheus rules and a
# Grafana dashboard, installed as documentation under $(docdir)/examples:
# never into $(sysconfdir), so an install never overwrites an operator's
# configuration. cairn(8) says how to put each in place.
examplesdir = $(docdir)/examples
dist_examples_DATA = etc/cairn.conf

examples_crondir = $(examplesdir)/cron.d
dist_examples_cron_DATA = etc/cron.d/cairn

examples_systemddir = $(examplesdir)/systemd
dist_examples_systemd_DATA = \
	etc/systemd/cairn-backup.service \
	etc/systemd/cairn-backup.timer \
	etc/systemd/cairn-verify.service \
	etc/systemd/cairn-verify.timer

examples_prometheusdir = $(examplesdir)/prometheus
dist_examples_prometheus_DATA = \
	etc/prometheus/cairn.rules.yml \
	etc/prometheus/cairn.rules.test.yml

examples_grafanadir = $(examplesdir)/grafana
dist_examples_grafana_DATA = etc/grafana/cairn-dashboard.json
