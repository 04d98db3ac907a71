/*
 * The [encryption] section put to use: the recipients new archives are
 * encrypted to (recipients and recipients-file, or passphrase-file), the
 * identities that read them (identity-file, passphrase-file), and the
 * process hardening that loading a secret calls for.
 *
 * Secrets are read like every secret file of cairn (host_secret_read:
 * a warning when group or others can read the file) and wiped from
 * memory once parsed; the structs filled here own copies that
 * age_identities_release and age_recipients_release wipe.
 */
#ifndef CAIRN_ENCRYPTION_H
#define CAIRN_ENCRYPTION_H

#include <cairn/plugin.h>

#include "age_keys.h"
#include "buf.h"
#include "config.h"

/* Whether new archives are encrypted: recipients or a passphrase set. */
int encryption_enabled(const struct config *config);

/*
 * Fills r with the configured recipients (both keys, deduplicated) or
 * the passphrase. 0 or -1 with err naming the file and line at fault.
 */
int encryption_load_recipients(const struct config *config,
			       struct age_recipients *r,
			       struct cairn_error *err);

/*
 * Fills ids from identity-file and passphrase-file and turns core dumps
 * off for the rest of the process. Returns 0, 1 when neither key is set
 * (err says which keys are missing, for exit 77), -1 when a file cannot
 * be read or parsed.
 */
int encryption_load_identities(const struct config *config,
			       struct age_identities *ids,
			       struct cairn_error *err);

/*
 * Appends the recipients of r as the catalogue records them: "age1..."
 * strings separated by spaces, or "scrypt" for a passphrase.
 */
void encryption_describe_recipients(const struct age_recipients *r,
				    struct buf *out);

#endif
