# Offsite copies: the Signature V4 signer, the S3 and SFTP clients over
# libcurl, the [offsite NAME] targets and the commands that use them.
libcairncore_la_SOURCES += \
	core/sigv4.c core/sigv4.h \
	core/s3.c core/s3.h \
	core/xml.c core/xml.h \
	core/offsite.c core/offsite.h \
	core/offsite_blob.c core/offsite_blob.h \
	core/offsite_read.c core/offsite_read.h \
	core/offsite_config.c core/offsite_config.h \
	core/offsite_copy.c core/offsite_copy.h \
	core/offsite_sftp.c \
	core/offsite_state.c core/offsite_state.h
cairn_SOURCES += core/cmd_copy.c core/cmd_remote.c core/offsite_check.c
libcairncore_la_CFLAGS += $(CURL_CFLAGS)
libcairncore_la_LIBADD += $(CURL_LIBS)
