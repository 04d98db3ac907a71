/*
 * The text forms of the configuration: lists of words (the "paths" and
 * "exclude" keys, the "paths" fact of an archive), split and quoted so
 * that a path holding spaces survives the trip, and absolute paths,
 * normalised so that two spellings of a directory compare equal.
 */
#include "autoconfig.h"

#include "volume.h"

#include <stdlib.h>
#include <string.h>

void
volume_free_words(char **words, size_t count)
{
	size_t i;

	if (words == NULL)
		return;
	for (i = 0; i < count; i++)
		free(words[i]);
	free(words);
}

int
volume_append_word(char ***words, size_t *count, const char *word,
		   size_t length)
{
	char **grown;
	char *copy;

	copy = strndup(word, length);
	if (copy == NULL)
		return -1;
	grown = realloc(*words, (*count + 1) * sizeof(**words));
	if (grown == NULL) {
		free(copy);
		return -1;
	}
	grown[(*count)++] = copy;
	*words = grown;
	return 0;
}

int
volume_split(const char *value, char ***words, size_t *count,
	     struct cairn_error *err)
{
	const char *p = value;
	char *word = NULL;
	size_t length, capacity = 0;
	int quoted, rc = -1;

	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		if (*p == '\0')
			break;
		length = 0;
		quoted = 0;
		while (*p != '\0' && (quoted || (*p != ' ' && *p != '\t' &&
						 *p != '\n' && *p != '\r'))) {
			char c = *p++;

			if (c == '"') {
				quoted = !quoted;
				continue;
			}
			if (quoted && c == '\\' && (*p == '"' || *p == '\\'))
				c = *p++;
			if (volume_grow((void **)&word, &capacity, length + 2,
					1) == -1)
				goto nomem;
			word[length++] = c;
		}
		if (quoted) {
			volume_error(err, "unterminated quote in '%s'", value);
			goto out;
		}
		if (length == 0) {
			volume_error(err, "empty word in '%s'", value);
			goto out;
		}
		if (volume_append_word(words, count, word, length) == -1)
			goto nomem;
	}
	rc = 0;
	goto out;
nomem:
	volume_error(err, "out of memory");
out:
	free(word);
	return rc;
}

int
volume_quote(char **out, size_t *length, size_t *capacity, const char *word)
{
	int quote = strpbrk(word, " \t\r\n\"\\") != NULL;
	const char *p;

	if (volume_grow((void **)out, capacity, *length + 2 * strlen(word) + 5,
			1) == -1)
		return -1;
	if (*length > 0)
		(*out)[(*length)++] = ' ';
	if (quote)
		(*out)[(*length)++] = '"';
	for (p = word; *p != '\0'; p++) {
		if (quote && (*p == '"' || *p == '\\'))
			(*out)[(*length)++] = '\\';
		(*out)[(*length)++] = *p;
	}
	if (quote)
		(*out)[(*length)++] = '"';
	(*out)[*length] = '\0';
	return 0;
}

int
volume_normalise(char *path, struct cairn_error *err)
{
	char *in = path, *out = path;

	if (path[0] != '/') {
		volume_error(err, "path '%s' is not absolute", path);
		return -1;
	}
	while (*in != '\0') {
		size_t length;

		while (*in == '/')
			in++;
		length = strcspn(in, "/");
		if (length == 0)
			break;
		if (length == 1 && in[0] == '.') {
			in += 1;
			continue;
		}
		if (length == 2 && in[0] == '.' && in[1] == '.') {
			volume_error(err,
				     "path '%s' must not contain '..' "
				     "components",
				     path);
			return -1;
		}
		*out++ = '/';
		memmove(out, in, length);
		out += length;
		in += length;
	}
	if (out == path)
		*out++ = '/';
	*out = '\0';
	return 0;
}

int
volume_inside(const char *root, const char *path)
{
	size_t length = strlen(root);

	if (strcmp(root, "/") == 0)
		return 1;
	return strncmp(root, path, length) == 0 &&
	       (path[length] == '\0' || path[length] == '/');
}
