# Manual pages. The plugin sections of cairn.conf(5) and the plugin
# examples of cairn(8) are merged by man/merge.py from the fragments each
# plugin keeps beside them, man/plugin-<name>.roff; the fragments are
# shipped so that they can be merged again. tests/integration/manpages.sh renders
# every page and checks it against the code.
dist_man_MANS = man/cairn.8 man/cairn.conf.5 man/cairn-plugin.7

EXTRA_DIST += \
	man/plugin-volume.roff \
	man/plugin-postgres.roff \
	man/plugin-redis.roff \
	man/plugin-kong.roff \
	man/merge.py \
	tests/integration/manpages.sh
