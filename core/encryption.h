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

#include <stdint.h>

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

/*
 * The process's keyring. Commands read archives deep inside the archive
 * layer, so the identities are not passed down: context_open names the
 * configuration here once, and the first encrypted archive opened loads
 * them (only then: a backup host without an identity never needs one).
 * encryption_release wipes them.
 */
void encryption_use_config(const struct config *config);
void encryption_release(void);

struct blob;
struct catalog_record;
struct json_value;

/*
 * If the file *b is an age file, replaces *b with its decrypting blob
 * (age_blob.h), loading the identities first. 0 (also for a plain
 * file), or -1 with err naming the archive: *b is then closed and NULL.
 * A failure for want of a key (none configured, none matches) is
 * remembered for encryption_key_failed.
 */
int encryption_open_blob(struct blob **b, struct cairn_error *err);

/* Whether a read failed for want of a key: the command exits 77. */
int encryption_key_failed(void);

/* Whether an identity or passphrase is configured to read archives. */
int encryption_has_identity(void);

/*
 * The check of an encrypted archive that needs no key: the file at path
 * has the size the catalogue recorded for r and its recorded SHA-256,
 * and a well-formed
 * age header. 0, or -1 with err naming the archive and what differs.
 */
int encryption_verify_stored(const char *path, const struct catalog_record *r,
			     const char *recorded_sha256,
			     struct cairn_error *err);

/* What an encrypted archive's file name ends with, after ".tar.zst". */
#define ENCRYPTION_SUFFIX ".age"

/*
 * Records in r's catalogue line that its archive is encrypted:
 * "encryption": {"format": "age-v1", "recipients": [...], "sha256": ...}
 * (the SHA-256 of the file as stored, checked by verify without any
 * identity). A passphrase is recorded as the recipient "scrypt".
 */
void encryption_record_set(struct catalog_record *r,
			   const struct age_recipients *recipients,
			   const char *sha256);

/*
 * Records the size and SHA-256 of a file about to replace r's (rekey):
 * until encryption_record_set clears them, verify accepts either file.
 */
void encryption_record_set_pending(struct catalog_record *r, const char *sha256,
				   uint64_t stored);

/*
 * For a record rebuilt from an archive's manifest: when the file at path
 * is an age file, records it as encrypted with the file's SHA-256 (its
 * recipients, which its header does not name, stay unknown until rekey).
 */
void encryption_record_adopt(struct catalog_record *r, const char *path);

/*
 * For a record rebuilt with the old line's extra members: takes fresh
 * (the members encryption_record_adopt set from the file, may be NULL)
 * and frees it. The old "encryption" member stays when the file is the
 * one it describes (it knows the recipients), is replaced when the file
 * changed, and is dropped when the file is no longer an age file.
 */
void encryption_record_refresh(struct catalog_record *r,
			       struct json_value *fresh);

/* The recorded SHA-256 of an encrypted archive's file, or NULL. */
const char *encryption_record_sha256(const struct catalog_record *r);

#endif
