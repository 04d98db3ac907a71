/*
 * A small open-addressing map from two integers to an owned string: the
 * backup's memory of hard links ((device, inode) to the name of the first
 * entry) and of owner names ((kind, id) to the name). Linear probing, at
 * most half full, never shrinks; nothing is ever removed.
 */
#include "autoconfig.h"

#include "volume.h"

#include <stdlib.h>
#include <string.h>

static uint64_t
volume_hash(uint64_t a, uint64_t b)
{
	uint64_t x = a * 0x9e3779b97f4a7c15ULL ^ b;

	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

struct volume_slot *
volume_map_find(const struct volume_map *map, uint64_t a, uint64_t b)
{
	size_t i;

	if (map->capacity == 0)
		return NULL;
	i = volume_hash(a, b) & (map->capacity - 1);
	while (map->slots[i].used) {
		if (map->slots[i].a == a && map->slots[i].b == b)
			return &map->slots[i];
		i = (i + 1) & (map->capacity - 1);
	}
	return NULL;
}

int
volume_map_put(struct volume_map *map, uint64_t a, uint64_t b, char *value)
{
	size_t i;

	if ((map->count + 1) * 2 > map->capacity) {
		struct volume_map bigger;
		size_t j;

		bigger.capacity = map->capacity > 0 ? map->capacity * 2 : 64;
		bigger.count = 0;
		bigger.slots = calloc(bigger.capacity, sizeof(*bigger.slots));
		if (bigger.slots == NULL)
			return -1;
		for (j = 0; j < map->capacity; j++) {
			struct volume_slot *s = &map->slots[j];

			if (!s->used)
				continue;
			i = volume_hash(s->a, s->b) & (bigger.capacity - 1);
			while (bigger.slots[i].used)
				i = (i + 1) & (bigger.capacity - 1);
			bigger.slots[i] = *s;
			bigger.count++;
		}
		free(map->slots);
		*map = bigger;
	}
	i = volume_hash(a, b) & (map->capacity - 1);
	while (map->slots[i].used)
		i = (i + 1) & (map->capacity - 1);
	map->slots[i].a = a;
	map->slots[i].b = b;
	map->slots[i].value = value;
	map->slots[i].used = 1;
	map->count++;
	return 0;
}

void
volume_map_release(struct volume_map *map)
{
	size_t i;

	for (i = 0; i < map->capacity; i++)
		if (map->slots[i].used)
			free(map->slots[i].value);
	free(map->slots);
	memset(map, 0, sizeof(*map));
}
