/*
 * BioModel's native C baseline (written for this project; not kernel code).
 *
 * Two loops over the optimized implementation's memmap arena, so the benchmarks can put the C# code
 * and the same loop compiled by the system C compiler at -O2 side by side. The arena's struct page
 * record (model/BioModel.Optimized/MemmapArena.cs) is read at fixed offsets:
 *   +0  u64 flags: section number in the top bits (classic SPARSEMEM only), bit 0 PG_zone_device
 *   +8  u64 compound_head: head | 1 on a tail page, 0 on a head
 *   +16 s32 pgmap id
 *   +20 u8  folio order (on the head)
 *   +24 s32 pin count
 * A page is a pointer into the arena; page + 1 is the next record (sizeof(struct page) bytes on).
 */
#include <stddef.h>
#include <stdint.h>

#define OFF_FLAGS 0
#define OFF_HEAD 8
#define OFF_PGMAP 16
#define OFF_ORDER 20
#define OFF_PINS 24
#define PG_ZONE_DEVICE 1ull

static inline uint64_t rd64(uint64_t page, int off) { return *(const uint64_t *)(uintptr_t)(page + off); }
static inline int32_t rd32(uint64_t page, int off) { return *(const int32_t *)(uintptr_t)(page + off); }

/* The length of the run of pages[] that are consecutive struct pages, without a section test (what the
 * compiler leaves when the section is not in the page flags). */
size_t bm_npc_nosection(const uint64_t *pages, size_t nr, uint64_t sz)
{
	uint64_t cur = pages[0];
	size_t i;
	for (i = 1; i < nr; i++) {
		cur += sz;
		if (cur != pages[i])
			break;
	}
	return i;
}

/* The same run, also stopping where the section number kept in the flags word changes. */
size_t bm_npc_section(const uint64_t *pages, size_t nr, uint64_t sz, unsigned shift, uint64_t mask)
{
	uint64_t cur = pages[0];
	uint64_t section = (rd64(cur, OFF_FLAGS) >> shift) & mask;
	size_t i;
	for (i = 1; i < nr; i++) {
		cur += sz;
		if (cur != pages[i])
			break;
		if (((rd64(cur, OFF_FLAGS) >> shift) & mask) != section)
			break;
	}
	return i;
}

/* How many runs a consumer finds walking the whole array (0 for the no-section variant's shift). */
size_t bm_npc_runs(const uint64_t *pages, size_t nr, uint64_t sz, int section_in_flags, unsigned shift, uint64_t mask)
{
	size_t i = 0, runs = 0;
	if (section_in_flags)
		while (i < nr) { i += bm_npc_section(pages + i, nr - i, sz, shift, mask); runs++; }
	else
		while (i < nr) { i += bm_npc_nosection(pages + i, nr - i, sz); runs++; }
	return runs;
}

struct bm_bvec { uint64_t page; uint32_t len; uint32_t offset; };

static inline uint64_t folio_of(uint64_t page)
{
	uint64_t head = rd64(page, OFF_HEAD);
	return (head & 1) ? head & ~1ull : page;
}

static inline int same_pgmap(uint64_t a, uint64_t b)
{
	uint64_t za = rd64(a, OFF_FLAGS) & PG_ZONE_DEVICE, zb = rd64(b, OFF_FLAGS) & PG_ZONE_DEVICE;
	if (za != zb)
		return 0;
	return !za || rd32(folio_of(a), OFF_PGMAP) == rd32(folio_of(b), OFF_PGMAP);
}

/*
 * The extraction loop of a user buffer into bio_vecs, as iov_iter_extract_bvecs does it for UBUF:
 * look up and pin every user page (ptes[i] is the page mapped at user page i, 0 if none) into a page
 * array parked in the tail of bv (two page pointers per 16-byte bio_vec), then walk it folio run by
 * folio run (consecutive pages of one folio make one bio_vec), and unpin what was not used.
 * Returns the bytes turned into bio_vecs (or -14 when the first page is not mapped); *nr_vecs grows.
 */
long bm_extract_ubuf(const uint64_t *ptes, size_t nptes, uint64_t addr, uint64_t count,
		     struct bm_bvec *bv, unsigned *nr_vecs, unsigned max_vecs, uint64_t page_size, uint64_t sz)
{
	unsigned entries = max_vecs - *nr_vecs;
	uint64_t *pages = (uint64_t *)bv + (size_t)*nr_vecs * 2 + entries; /* P0 = nr*k + E*(k-1), k = 2 */
	uint64_t offset = addr & (page_size - 1);
	uint64_t first = addr / page_size;
	uint64_t n = (count + offset + page_size - 1) / page_size;
	uint64_t got, size, left, i;
	if (n > entries)
		n = entries;
	for (got = 0; got < n; got++) {
		uint64_t page = first + got < nptes ? ptes[first + got] : 0;
		if (!page)
			break;
		pages[got] = page;
		(*(int32_t *)(uintptr_t)(page + OFF_PINS))++;
	}
	if (got == 0)
		return -14;
	size = got * page_size - offset;
	if (size > count)
		size = count;
	left = size;
	i = 0;
	while (left > 0) {
		uint64_t p = pages[i], folio = folio_of(p);
		uint64_t folio_size = page_size << *(const uint8_t *)(uintptr_t)(folio + OFF_ORDER);
		uint64_t folio_off = page_size * ((p - folio) / sz) + offset;
		uint64_t len = folio_size - folio_off < left ? folio_size - folio_off : left;
		uint64_t contig = page_size - offset < left ? page_size - offset : left;
		uint64_t rest = left - contig, max_pages = (offset + len + page_size - 1) / page_size, j;
		if (*nr_vecs > 0 && !same_pgmap(bv[*nr_vecs - 1].page, p))
			break;
		for (j = 1; j < max_pages; j++) {
			uint64_t q = pages[i + j], next = page_size < rest ? page_size : rest;
			if (folio_of(q) != folio || q != pages[i + j - 1] + sz)
				break;
			contig += next;
			rest -= next;
		}
		bv[*nr_vecs].page = p;
		bv[*nr_vecs].len = (uint32_t)contig;
		bv[*nr_vecs].offset = (uint32_t)offset;
		(*nr_vecs)++;
		i += j;
		left -= contig;
		offset = 0;
	}
	for (; i < got; i++)
		(*(int32_t *)(uintptr_t)(pages[i] + OFF_PINS))--;
	return (long)(size - left);
}
