# Offsite copies: the Signature V4 signer, the S3 and SFTP clients over
# libcurl, the [offsite NAME] targets and the commands that use them.
libcairncore_la_SOURCES += \
	core/sigv4.c core/sigv4.h \
	core/xml.c core/xml.h
libcairncore_la_CFLAGS += $(CURL_CFLAGS)
libcairncore_la_LIBADD += $(CURL_LIBS)
