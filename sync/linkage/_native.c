/* The block index's native core (decision 0028, fourth round), built beside the mypyc
 * modules by scripts/build_linkage.py and used only with them (the same stamp).
 *
 * `Index` keeps what `blocking.BlockIndex` keeps in Python dicts: each key's block of party
 * numbers, as a flat C array, found through a flat hash table holding each key's hash (worked
 * out once per key string, as a dict does) beside its block's number, and the key's kind (how much it counts, whether it is an
 * identifier, whether it is a typo key) read once when its block is made. `rank` sums each
 * candidate's shared keys' rarity in a C array, in the order the Python code sums them (so
 * every sum is the same double, bit for bit), and sorts them as Python's stable
 * `sorted(..., reverse=True)` does: the larger sum first, ties in first-shared order.
 * blocking.py holds the plain Python code that gives the same answers; a test holds the two
 * to each other.
 *
 * Beside it, the pair comparisons (`levels`, as `compare.levels`), the reading of a name
 * of printable ASCII (`read_name`, as `records.python_read_name`) and a party's blocking
 * keys (`block_keys`, as `blocking._keys`): see their sections below.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int32_t *ids;   /* the block's members in the order they were added, when more than one */
    int32_t len;
    int32_t cap;
    int32_t one;    /* a block of one keeps its member here (most blocks: no allocation) */
    uint8_t strong; /* how much the key counts (3 for a strong identifier, else 1) */
    uint8_t identifier;
    uint8_t typo;
} Block;

static inline int32_t *members(Block *block) {
    return block->cap <= 1 ? &block->one : block->ids;
}

#define KNOWN_KINDS 1024 /* a power of two */

typedef struct {
    Py_hash_t hash;
    PyObject *key; /* a str, owned; NULL: a free slot */
    int32_t block;
} Slot;

typedef struct {
    PyObject_HEAD
    Slot *slots;         /* key -> block number: open addressing, at most half full */
    size_t mask;         /* slots - 1 (a power of two) */
    Block *blocks;
    Py_ssize_t nblocks, capblocks;
    Py_ssize_t size;     /* parties added */
    /* per party, for one search: the running sum and whether it was touched */
    double *sums;
    uint8_t *touched;
    Py_ssize_t capparties;
    int32_t *order;      /* touched parties in first-shared order */
    int32_t *sure;
    Py_ssize_t capwork;
    /* the rules, from blocking.py */
    double *rarity;
    Py_ssize_t nrarity;
    PyObject *kinds;     /* 2-character prefix -> (strong, identifier) */
    PyObject *typo_kinds; /* 3-character prefixes of typo keys */
    /* The kinds read so far, by a key's first three characters when ASCII (`read_kind`): a
     * large book makes 200,000 blocks of a few hundred such prefixes ("n:a", "e:b" ...), and
     * reading a kind makes two strings. A cache, not a table: a prefix may take another's
     * place, and is then read again. */
    struct {
        uint32_t prefix; /* 0: none */
        uint8_t strong, identifier, typo;
    } known[KNOWN_KINDS];
    Py_ssize_t max_block, typo_block, identifier_block;
} Index;

static void Index_dealloc(Index *self) {
    for (Py_ssize_t b = 0; b < self->nblocks; b++) {
        if (self->blocks[b].cap > 1) {
            free(self->blocks[b].ids);
        }
    }
    free(self->blocks);
    free(self->sums);
    free(self->touched);
    free(self->order);
    free(self->sure);
    free(self->rarity);
    if (self->slots != NULL) {
        for (size_t n = 0; n <= self->mask; n++) {
            Py_XDECREF(self->slots[n].key);
        }
        free(self->slots);
    }
    Py_XDECREF(self->kinds);
    Py_XDECREF(self->typo_kinds);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Everything is read into locals and put in place only once all of it is good: a refused
 * call, a second one included, leaves the index as it was (attack, fourth round). */
static int Index_init(Index *self, PyObject *args, PyObject *kwds) {
    static char *names[] = {"rarity", "kinds", "typo_kinds", "max_block", "typo_block",
                            "identifier_block", NULL};
    PyObject *rarity, *kinds, *typo_kinds;
    Py_ssize_t max_block, typo_block = 0, identifier_block = 0;
    if (self->slots != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Index initialised twice");
        return -1;
    }
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!O!On|nn", names, &PyList_Type, &rarity,
                                     &PyDict_Type, &kinds, &typo_kinds, &max_block,
                                     &typo_block, &identifier_block)) {
        return -1;
    }
    /* `rank` reads rarity[size] for a block of up to max_block parties, and of up to
     * typo_block for a typo key: the table must reach the larger of the two */
    Py_ssize_t largest = max_block > typo_block ? max_block : typo_block;
    PyObject *table = PyList_AsTuple(rarity); /* an item's `__float__` cannot resize it */
    if (table == NULL) {
        return -1;
    }
    Py_ssize_t nrarity = PyTuple_GET_SIZE(table);
    if (nrarity <= largest) {
        Py_DECREF(table);
        PyErr_SetString(PyExc_ValueError, "a rarity is needed for every block size searched");
        return -1;
    }
    double *weights = malloc(sizeof(double) * (nrarity ? nrarity : 1));
    Slot *slots = NULL;
    if (weights == NULL) {
        PyErr_NoMemory();
        goto refused;
    }
    for (Py_ssize_t n = 0; n < nrarity; n++) {
        weights[n] = PyFloat_AsDouble(PyTuple_GET_ITEM(table, n));
        if (weights[n] == -1.0 && PyErr_Occurred()) {
            goto refused;
        }
    }
    if (self->slots != NULL) { /* initialised meanwhile, by a `__float__` above */
        PyErr_SetString(PyExc_RuntimeError, "Index initialised twice");
        goto refused;
    }
    slots = calloc((size_t)1 << 16, sizeof(Slot));
    if (slots == NULL) {
        PyErr_NoMemory();
        goto refused;
    }
    Py_DECREF(table);
    self->rarity = weights;
    self->nrarity = nrarity;
    Py_INCREF(kinds);
    self->kinds = kinds;
    Py_INCREF(typo_kinds);
    self->typo_kinds = typo_kinds;
    self->max_block = max_block;
    self->typo_block = typo_block;
    self->identifier_block = identifier_block;
    self->mask = ((size_t)1 << 16) - 1;
    self->slots = slots; /* last: what the other methods check for an index made whole */
    return 0;
refused:
    Py_DECREF(table);
    free(weights);
    return -1;
}

static int grow_parties(Index *self, Py_ssize_t need) {
    if (need <= self->capparties) {
        return 0;
    }
    Py_ssize_t cap = self->capparties ? self->capparties : 1024;
    while (cap < need) {
        cap *= 2;
    }
    double *sums = realloc(self->sums, sizeof(double) * cap);
    if (sums == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    self->sums = sums;
    uint8_t *touched = realloc(self->touched, cap);
    if (touched == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    memset(touched + self->capparties, 0, cap - self->capparties);
    self->touched = touched;
    self->capparties = cap;
    return 0;
}

static int grow_work(Index *self, Py_ssize_t need) {
    if (need <= self->capwork) {
        return 0;
    }
    Py_ssize_t cap = self->capwork ? self->capwork : 1024;
    while (cap < need) {
        cap *= 2;
    }
    int32_t *order = realloc(self->order, sizeof(int32_t) * cap);
    if (order == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    self->order = order;
    int32_t *sure = realloc(self->sure, sizeof(int32_t) * cap);
    if (sure == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    self->sure = sure;
    self->capwork = cap;
    return 0;
}

/* The key's kind, read when its block is made: its first two characters in `kinds`, its
 * first three in `typo_kinds`. This may run Python code (a kinds value's `__bool__` or
 * `__index__`, the container's `__contains__`), which may even add to this index: `Index_add`
 * calls it before it takes a party number or holds any pointer into the index's arrays. */
static int read_kind_now(Index *self, PyObject *key, Block *block) {
    block->strong = 1;
    block->identifier = 0;
    block->typo = 0;
    Py_ssize_t length = PyUnicode_GET_LENGTH(key);
    PyObject *prefix = PyUnicode_Substring(key, 0, length < 2 ? length : 2);
    if (prefix == NULL) {
        return -1;
    }
    PyObject *kind = PyDict_GetItemWithError(self->kinds, prefix); /* borrowed */
    Py_XINCREF(kind); /* Python code below could take it out of the dict */
    Py_DECREF(prefix);
    if (kind == NULL) {
        if (PyErr_Occurred()) {
            return -1;
        }
    } else {
        long strong;
        int identifier;
        int parsed = PyArg_ParseTuple(kind, "lp", &strong, &identifier);
        Py_DECREF(kind);
        if (!parsed) {
            return -1;
        }
        if (strong < 0 || strong > UINT8_MAX) { /* kept in a byte: refused, never wrapped */
            PyErr_SetString(PyExc_ValueError, "a kind counts 0 to 255 times");
            return -1;
        }
        block->strong = (uint8_t)strong;
        block->identifier = (uint8_t)identifier;
    }
    prefix = PyUnicode_Substring(key, 0, length < 3 ? length : 3);
    if (prefix == NULL) {
        return -1;
    }
    int typo = PySequence_Contains(self->typo_kinds, prefix);
    Py_DECREF(prefix);
    if (typo < 0) {
        return -1;
    }
    block->typo = (uint8_t)typo;
    return 0;
}

/* A key's first three characters as one number, or 0: shorter, or not ASCII. */
static inline uint32_t ascii_prefix(PyObject *key) {
    if (!PyUnicode_IS_ASCII(key) || PyUnicode_GET_LENGTH(key) < 3) {
        return 0;
    }
    const uint8_t *text = PyUnicode_1BYTE_DATA(key);
    return (uint32_t)text[0] | (uint32_t)text[1] << 8 | (uint32_t)text[2] << 16 | 1u << 24;
}

/* `read_kind_now`, once per three-character prefix (while it keeps its place in the cache):
 * the tables an index is made with are blocking.py's constants. (Python code it runs may add
 * to the index, and so fill the cache, meanwhile: the last one read is kept.) */
static int read_kind(Index *self, PyObject *key, Block *block) {
    uint32_t prefix = ascii_prefix(key);
    size_t n = (size_t)((prefix * 2654435761u) >> 22) & (KNOWN_KINDS - 1);
    if (prefix != 0 && self->known[n].prefix == prefix) {
        block->strong = self->known[n].strong;
        block->identifier = self->known[n].identifier;
        block->typo = self->known[n].typo;
        return 0;
    }
    if (read_kind_now(self, key, block) < 0) {
        return -1;
    }
    if (prefix != 0) {
        self->known[n].prefix = prefix;
        self->known[n].strong = block->strong;
        self->known[n].identifier = block->identifier;
        self->known[n].typo = block->typo;
    }
    return 0;
}

static int block_append(Block *block, int32_t party) {
    if (block->len == 0 && block->cap <= 1) { /* (one emptied by `unadd` keeps its array) */
        block->one = party;
        block->cap = 1;
        block->len = 1;
        return 0;
    }
    if (block->len == block->cap) {
        int32_t cap = block->cap * 2;
        int32_t *ids = block->cap == 1 ? malloc(sizeof(int32_t) * cap)
                                       : realloc(block->ids, sizeof(int32_t) * cap);
        if (ids == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        if (block->cap == 1) {
            ids[0] = block->one;
        }
        block->ids = ids;
        block->cap = cap;
    }
    block->ids[block->len++] = party;
    return 0;
}

static inline int same(PyObject *a, PyObject *b) {
    if (a == b) {
        return 1;
    }
    Py_ssize_t length = PyUnicode_GET_LENGTH(a);
    int kind = PyUnicode_KIND(a);
    return length == PyUnicode_GET_LENGTH(b) && kind == PyUnicode_KIND(b) &&
           memcmp(PyUnicode_DATA(a), PyUnicode_DATA(b), (size_t)length * kind) == 0;
}

/* The slot of `key` (hash `hash`): its own, or the free one where it would go. */
static inline Slot *slot_of(Index *self, PyObject *key, Py_hash_t hash) {
    size_t n = (size_t)hash & self->mask;
    for (;;) {
        Slot *slot = &self->slots[n];
        if (slot->key == NULL || (slot->hash == hash && same(slot->key, key))) {
            return slot;
        }
        n = (n + 1) & self->mask;
    }
}

static int grow_slots(Index *self) {
    size_t size = (self->mask + 1) * 2;
    Slot *slots = calloc(size, sizeof(Slot));
    if (slots == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (size_t n = 0; n <= self->mask; n++) {
        Slot *old = &self->slots[n];
        if (old->key != NULL) {
            size_t m = (size_t)old->hash & (size - 1);
            while (slots[m].key != NULL) {
                m = (m + 1) & (size - 1);
            }
            slots[m] = *old;
        }
    }
    free(self->slots);
    self->slots = slots;
    self->mask = size - 1;
    return 0;
}

/* An `Index.__new__` without `__init__` (what copy and pickle machinery make) has no slot
 * table: every method refuses it rather than read through NULL. */
static int ready(Index *self) {
    if (self->slots == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Index not initialised");
        return 0;
    }
    return 1;
}

/* Takes back the party's first `added` keys (a refused add leaves no trace): each was
 * appended last to its block; a block it made stays, empty, as if never made. */
static void unadd(Index *self, PyObject *keys, Py_ssize_t added) {
    while (added-- > 0) {
        PyObject *key = PyTuple_GET_ITEM(keys, added);
        self->blocks[slot_of(self, key, PyObject_Hash(key))->block].len--;
    }
}

/* add(keys): the next party, with its blocking keys; returns its number. In two steps, so
 * that a refused add leaves no trace and Python code cannot pull the arrays from under it:
 * first every key is checked (an exact str) and the kind of each key not yet in the index
 * is read (`read_kind`: may run Python code, even a re-entrant add); then, with no Python
 * code run any more, the party takes its number and joins its blocks. Past the first step
 * only allocation can fail, and what was done is taken back (`unadd`). */
static PyObject *Index_add(Index *self, PyObject *list) {
    if (!ready(self)) {
        return NULL;
    }
    if (!PyList_Check(list)) {
        PyErr_SetString(PyExc_TypeError, "keys must be a list of str");
        return NULL;
    }
    PyObject *keys = PyList_AsTuple(list); /* Python code run below cannot change it */
    if (keys == NULL) {
        return NULL;
    }
    Py_ssize_t nkeys = PyTuple_GET_SIZE(keys);
    Block *kinds = PyMem_Calloc(nkeys ? nkeys : 1, sizeof(Block));
    PyObject *out = NULL;
    if (kinds == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t k = 0; k < nkeys; k++) {
        if (!PyUnicode_CheckExact(PyTuple_GET_ITEM(keys, k))) { /* a subclass could run
                                                                   Python code when hashed */
            PyErr_SetString(PyExc_TypeError, "keys must be a list of str");
            goto done;
        }
    }
    for (Py_ssize_t k = 0; k < nkeys; k++) {
        PyObject *key = PyTuple_GET_ITEM(keys, k);
        if (slot_of(self, key, PyObject_Hash(key))->key == NULL &&
            read_kind(self, key, &kinds[k]) < 0) {
            goto done;
        }
    }
    /* From here on no Python code runs: the slot and block pointers below stay good. */
    if (self->size >= INT32_MAX || grow_parties(self, self->size + 1) < 0) {
        if (!PyErr_Occurred()) {
            PyErr_NoMemory();
        }
        goto done;
    }
    int32_t party = (int32_t)self->size;
    for (Py_ssize_t k = 0; k < nkeys; k++) {
        PyObject *key = PyTuple_GET_ITEM(keys, k);
        Py_hash_t hash = PyObject_Hash(key); /* an exact str's: cached, cannot fail */
        Slot *slot = slot_of(self, key, hash);
        Block *block;
        if (slot->key == NULL) {
            /* a new key: its kind was read above (a key that Python code run there added
             * meanwhile has its block already, made with the kind read then) */
            if (self->nblocks >= INT32_MAX) {
                PyErr_NoMemory();
                goto refused;
            }
            if ((size_t)(self->nblocks + 1) * 2 > self->mask + 1) {
                if (grow_slots(self) < 0) {
                    goto refused;
                }
                slot = slot_of(self, key, hash);
            }
            if (self->nblocks == self->capblocks) {
                Py_ssize_t cap = self->capblocks ? self->capblocks * 2 : 4096;
                Block *blocks = realloc(self->blocks, sizeof(Block) * cap);
                if (blocks == NULL) {
                    PyErr_NoMemory();
                    goto refused;
                }
                self->blocks = blocks;
                self->capblocks = cap;
            }
            block = &self->blocks[self->nblocks];
            memset(block, 0, sizeof(Block));
            block->strong = kinds[k].strong;
            block->identifier = kinds[k].identifier;
            block->typo = kinds[k].typo;
            Py_INCREF(key);
            slot->key = key;
            slot->hash = hash;
            slot->block = (int32_t)self->nblocks++;
        } else {
            block = &self->blocks[slot->block];
        }
        if (block_append(block, party) < 0) {
            goto refused;
        }
        continue;
    refused:
        unadd(self, keys, k);
        goto done;
    }
    self->size++;
    out = PyLong_FromSsize_t(party);
done:
    PyMem_Free(kinds);
    Py_DECREF(keys);
    return out;
}

/* The key's block; NULL, an error set or not (a key no party has). */
static Block *find(Index *self, PyObject *key) {
    Py_hash_t hash = PyObject_Hash(key);
    if (hash == -1) {
        return NULL;
    }
    Slot *slot = slot_of(self, key, hash);
    return slot->key == NULL ? NULL : &self->blocks[slot->block];
}

/* size_of(key): how many parties share the key (0: none). */
static PyObject *Index_size_of(Index *self, PyObject *key) {
    if (!ready(self)) {
        return NULL;
    }
    if (!PyUnicode_CheckExact(key)) {
        PyErr_SetString(PyExc_TypeError, "a key is a str");
        return NULL;
    }
    Block *block = find(self, key);
    if (block == NULL && PyErr_Occurred()) {
        return NULL;
    }
    return PyLong_FromLong(block == NULL ? 0 : block->len);
}

static Index *sorting; /* the index whose sums `by_sum` reads (one search at a time: the GIL) */

/* The larger sum first; equal sums in the order first shared (Python's stable sort). */
static int by_sum(const void *x, const void *y) {
    int32_t a = ((const int32_t *)x)[0], b = ((const int32_t *)y)[0];
    int32_t pa = ((const int32_t *)x)[1], pb = ((const int32_t *)y)[1];
    double sa = sorting->sums[a], sb = sorting->sums[b];
    if (sa > sb) {
        return -1;
    }
    if (sa < sb) {
        return 1;
    }
    return (pa > pb) - (pa < pb);
}

static int by_number(const void *x, const void *y) {
    int32_t a = *(const int32_t *)x, b = *(const int32_t *)y;
    return (a > b) - (a < b);
}

/* rank(probes, keep) -> (best, sums, sure): the `keep` parties with the largest sums of
 * their shared keys' rarity, best first (ties in first-shared order), their sums, and every
 * party sharing a rare identifier with the probes, in ascending order. As
 * `blocking.BlockIndex._rank`. */
static PyObject *Index_rank(Index *self, PyObject *args) {
    PyObject *probes;
    Py_ssize_t keep;
    if (!ready(self) || !PyArg_ParseTuple(args, "O!n", &PyList_Type, &probes, &keep)) {
        return NULL;
    }
    Py_ssize_t touched = 0, sure = 0;
    int failed = 0;
    for (Py_ssize_t k = 0; k < PyList_GET_SIZE(probes); k++) {
        PyObject *key = PyList_GET_ITEM(probes, k);
        if (!PyUnicode_CheckExact(key)) {
            PyErr_SetString(PyExc_TypeError, "probes must be a list of str");
            failed = 1;
            break;
        }
        Block *block = find(self, key);
        if (block == NULL) {
            if (PyErr_Occurred()) {
                failed = 1;
                break;
            }
            continue;
        }
        Py_ssize_t size = block->len;
        if (!(size <= self->typo_block || (size <= self->max_block && !block->typo))) {
            continue;
        }
        if (grow_work(self, touched + sure + size) < 0) {
            failed = 1;
            break;
        }
        double weight = self->rarity[size] * (double)block->strong;
        int32_t *ids = members(block);
        for (Py_ssize_t j = 0; j < size; j++) {
            int32_t i = ids[j];
            if (self->touched[i]) {
                self->sums[i] += weight;
            } else {
                self->touched[i] = 1;
                self->sums[i] = 0.0 + weight;
                self->order[touched++] = i;
            }
        }
        if (block->identifier && size <= self->identifier_block) {
            for (Py_ssize_t j = 0; j < size; j++) {
                self->sure[sure++] = ids[j];
            }
        }
    }
    PyObject *out = NULL;
    int32_t *pairs = NULL;
    if (!failed) {
        pairs = malloc(sizeof(int32_t) * 2 * (touched ? touched : 1));
        if (pairs == NULL) {
            PyErr_NoMemory();
            failed = 1;
        }
    }
    if (!failed) {
        for (Py_ssize_t t = 0; t < touched; t++) {
            pairs[2 * t] = self->order[t];
            pairs[2 * t + 1] = (int32_t)t;
        }
        sorting = self;
        qsort(pairs, touched, sizeof(int32_t) * 2, by_sum);
        /* the first `keep` as Python's slice [:keep] takes them: a negative one leaves off
         * that many from the end */
        Py_ssize_t n = keep < 0 ? (touched + keep > 0 ? touched + keep : 0)
                                : (keep < touched ? keep : touched);
        PyObject *best = PyList_New(n), *sums = PyList_New(n);
        qsort(self->sure, sure, sizeof(int32_t), by_number);
        Py_ssize_t distinct = 0;
        for (Py_ssize_t s = 0; s < sure; s++) {
            if (distinct == 0 || self->sure[distinct - 1] != self->sure[s]) {
                self->sure[distinct++] = self->sure[s];
            }
        }
        PyObject *sured = PyList_New(distinct);
        if (best != NULL && sums != NULL && sured != NULL) {
            for (Py_ssize_t b = 0; b < n && !failed; b++) {
                PyObject *i = PyLong_FromLong(pairs[2 * b]);
                PyObject *s = PyFloat_FromDouble(self->sums[pairs[2 * b]]);
                if (i == NULL || s == NULL) {
                    Py_XDECREF(i);
                    Py_XDECREF(s);
                    failed = 1;
                    break;
                }
                PyList_SET_ITEM(best, b, i);
                PyList_SET_ITEM(sums, b, s);
            }
            for (Py_ssize_t s = 0; s < distinct && !failed; s++) {
                PyObject *i = PyLong_FromLong(self->sure[s]);
                if (i == NULL) {
                    failed = 1;
                    break;
                }
                PyList_SET_ITEM(sured, s, i);
            }
            if (!failed) {
                out = PyTuple_Pack(3, best, sums, sured);
            }
        }
        Py_XDECREF(best);
        Py_XDECREF(sums);
        Py_XDECREF(sured);
    }
    free(pairs);
    for (Py_ssize_t t = 0; t < touched; t++) {
        self->touched[self->order[t]] = 0;
    }
    return out;
}

static PyObject *Index_len(Index *self, void *closure) {
    return PyLong_FromSsize_t(self->size);
}

/* blocks() -> {key: [party, ...]}: the plain form's dict (`BlockIndex.blocks`), in the order
 * the blocks were made, for `BlockIndex` to copy and pickle itself (`__getstate__`). */
static PyObject *Index_blocks(Index *self, PyObject *unused) {
    if (!ready(self)) {
        return NULL;
    }
    PyObject **keys = calloc(self->nblocks ? self->nblocks : 1, sizeof(PyObject *));
    PyObject *out = PyDict_New();
    if (keys == NULL || out == NULL) {
        free(keys);
        Py_XDECREF(out);
        return PyErr_NoMemory();
    }
    for (size_t n = 0; n <= self->mask; n++) {
        if (self->slots[n].key != NULL) {
            keys[self->slots[n].block] = self->slots[n].key;
        }
    }
    for (Py_ssize_t b = 0; b < self->nblocks; b++) {
        Block *block = &self->blocks[b];
        if (block->len == 0) { /* made by a refused add: the plain form has no such block */
            continue;
        }
        PyObject *members_of = PyList_New(block->len);
        if (members_of == NULL) {
            goto failed;
        }
        int32_t *ids = members(block);
        for (int32_t j = 0; j < block->len; j++) {
            PyObject *i = PyLong_FromLong(ids[j]);
            if (i == NULL) {
                Py_DECREF(members_of);
                goto failed;
            }
            PyList_SET_ITEM(members_of, j, i);
        }
        int set = PyDict_SetItem(out, keys[b], members_of);
        Py_DECREF(members_of);
        if (set < 0) {
            goto failed;
        }
    }
    free(keys);
    return out;
failed:
    free(keys);
    Py_DECREF(out);
    return NULL;
}


/* ---- The pair comparisons (`compare.levels`) over the strings themselves -------------------
 *
 * rapidfuzz's scorers are called through the C interface they export for rapidfuzz.process
 * (`_RF_Scorer`, a capsule: version 3 of its structure, uncached calls), so every score is
 * the one the Python call returns. The rules are `compare.levels`' rules, field by field;
 * the rare name rules (a trade name, numbers in both names, heads of alike names, people's
 * name parts) call the Python functions themselves.
 */

enum { RF_UINT8, RF_UINT16, RF_UINT32, RF_UINT64 };

typedef struct _RF_String {
    void (*dtor)(struct _RF_String *self);
    int kind;
    void *data;
    int64_t length;
    void *context;
} RF_String;

typedef struct _RF_Kwargs {
    void (*dtor)(struct _RF_Kwargs *self);
    void *context;
} RF_Kwargs;

typedef struct _RF_ScorerFunc {
    void (*dtor)(struct _RF_ScorerFunc *self);
    union {
        int (*f64)(void);
    } call;
    void *context;
} RF_ScorerFunc;

typedef struct {
    uint32_t flags;
    union {
        double f64;
        int64_t i64;
        size_t sizet;
    } optimal_score, worst_score;
} RF_ScorerFlags;

typedef _Bool (*RF_F64)(const RF_String *, const RF_String *, const RF_Kwargs *, double, double,
                        double *);
typedef _Bool (*RF_SizeT)(const RF_String *, const RF_String *, const RF_Kwargs *, size_t, size_t,
                          size_t *);

typedef struct {
    uint32_t version;
    _Bool (*kwargs_init)(RF_Kwargs *self, PyObject *kwargs);
    _Bool (*get_scorer_flags)(const RF_Kwargs *kwargs, RF_ScorerFlags *flags);
    void *scorer_func_init;
    void *uncached; /* a union of function pointers: f64, i64 or size_t results */
} RF_Scorer;

#define RF_SCORER_FLAG_RESULT_F64 ((uint32_t)1 << 5)
#define RF_SCORER_FLAG_RESULT_SIZE_T ((uint32_t)1 << 7)

typedef struct {
    void *call;
    RF_Kwargs kwargs;
    int sizet; /* a size_t result (distances), else a double */
} Scorer;

static Scorer RATIO, TOKEN_SET, JARO_WINKLER, EDITS;
static int scorers_ready = 0;
/* The Python rules called for the rare cases: compare._name, compare._parts,
 * compare._heads_agree, names.numbers_differ. */
static PyObject *py_name, *py_parts, *py_heads_agree, *py_numbers_differ;

static int scorer_from(Scorer *out, PyObject *function, int sizet) {
    PyObject *capsule = PyObject_GetAttrString(function, "_RF_Scorer");
    RF_Scorer *scorer = NULL;
    if (capsule != NULL) {
        scorer = PyCapsule_GetPointer(capsule, PyCapsule_GetName(capsule));
        Py_DECREF(capsule);
    }
    if (scorer == NULL) {
        PyErr_Clear();
        PyErr_SetString(PyExc_ImportError, "no rapidfuzz scorer interface");
        return -1;
    }
    if (scorer->version != 3) {
        PyErr_Format(PyExc_ImportError, "rapidfuzz scorer interface %u, not 3", scorer->version);
        return -1;
    }
    PyObject *none = PyDict_New();
    if (none == NULL) {
        return -1;
    }
    _Bool made = scorer->kwargs_init(&out->kwargs, none);
    Py_DECREF(none);
    RF_ScorerFlags flags;
    if (!made || !scorer->get_scorer_flags(&out->kwargs, &flags)) {
        PyErr_Clear();
        PyErr_SetString(PyExc_ImportError, "a rapidfuzz scorer refused its defaults");
        return -1;
    }
    uint32_t wanted = sizet ? RF_SCORER_FLAG_RESULT_SIZE_T : RF_SCORER_FLAG_RESULT_F64;
    if (!(flags.flags & wanted)) {
        PyErr_SetString(PyExc_ImportError, "a rapidfuzz scorer of another result type");
        return -1;
    }
    out->call = scorer->uncached;
    out->sizet = sizet;
    return out->call == NULL ? (PyErr_SetString(PyExc_ImportError, "no uncached scorer"), -1) : 0;
}

/* setup(ratio, token_set_ratio, jaro_winkler, distance, name, parts, heads_agree,
 * numbers_differ): the scorers and the Python rules, once, from compare.py. */
static PyObject *native_setup(PyObject *module, PyObject *args) {
    PyObject *ratio, *token_set, *jaro, *edits, *name, *parts, *heads, *numbers;
    if (!PyArg_ParseTuple(args, "OOOOOOOO", &ratio, &token_set, &jaro, &edits, &name, &parts,
                          &heads, &numbers)) {
        return NULL;
    }
    if (scorer_from(&RATIO, ratio, 0) < 0 || scorer_from(&TOKEN_SET, token_set, 0) < 0 ||
        scorer_from(&JARO_WINKLER, jaro, 0) < 0 || scorer_from(&EDITS, edits, 1) < 0) {
        return NULL;
    }
    Py_INCREF(name);
    Py_INCREF(parts);
    Py_INCREF(heads);
    Py_INCREF(numbers);
    py_name = name;
    py_parts = parts;
    py_heads_agree = heads;
    py_numbers_differ = numbers;
    scorers_ready = 1;
    Py_RETURN_NONE;
}

static inline void rf_string(RF_String *out, PyObject *text, Py_ssize_t start, Py_ssize_t length) {
    int kind = PyUnicode_KIND(text);
    out->dtor = NULL;
    out->kind = kind == PyUnicode_1BYTE_KIND ? RF_UINT8 : kind == PyUnicode_2BYTE_KIND ? RF_UINT16
                                                                                       : RF_UINT32;
    out->data = (char *)PyUnicode_DATA(text) + start * kind;
    out->length = length;
    out->context = NULL;
}

/* A score as the Python call gives it (score_cutoff as given there, 0 when none). */
static int score(Scorer *scorer, PyObject *x, PyObject *y, double cutoff, double *result) {
    RF_String a, b;
    rf_string(&a, x, 0, PyUnicode_GET_LENGTH(x));
    rf_string(&b, y, 0, PyUnicode_GET_LENGTH(y));
    return ((RF_F64)scorer->call)(&a, &b, &scorer->kwargs, cutoff, cutoff, result) ? 0 : -1;
}

/* Whether two slices of strings are at most one edit apart (Levenshtein, score_cutoff=1). */
static int one_edit(PyObject *x, Py_ssize_t xs, Py_ssize_t xn, PyObject *y, Py_ssize_t ys,
                    Py_ssize_t yn) {
    RF_String a, b;
    size_t distance;
    rf_string(&a, x, xs, xn);
    rf_string(&b, y, ys, yn);
    if (!((RF_SizeT)EDITS.call)(&a, &b, &EDITS.kwargs, 1, 1, &distance)) {
        return -1;
    }
    return distance <= 1;
}

static inline int equal_slices(PyObject *x, Py_ssize_t xs, PyObject *y, Py_ssize_t ys,
                               Py_ssize_t n) {
    int xk = PyUnicode_KIND(x), yk = PyUnicode_KIND(y);
    const void *xd = PyUnicode_DATA(x), *yd = PyUnicode_DATA(y);
    if (xk == yk) {
        return memcmp((const char *)xd + xs * xk, (const char *)yd + ys * yk, (size_t)n * xk) == 0;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (PyUnicode_READ(xk, xd, xs + i) != PyUnicode_READ(yk, yd, ys + i)) {
            return 0;
        }
    }
    return 1;
}

static inline int equal(PyObject *x, PyObject *y) {
    Py_ssize_t n = PyUnicode_GET_LENGTH(x);
    return x == y || (n == PyUnicode_GET_LENGTH(y) && equal_slices(x, 0, y, 0, n));
}

#define EMPTY(s) (PyUnicode_GET_LENGTH(s) == 0)

/* A record's fields in the order `compare._row` lays them out. */
enum {
    R_NAME, R_RAW, R_SORTED, R_NUMBERS, R_TOKENS, R_GIVEN, R_FAMILY, R_TRADE, R_EMAIL, R_DOMAIN,
    R_WEBSITE, R_PHONE, R_LINE1, R_LINE1_SORTED, R_POSTAL, R_CITY, R_REGION, R_COUNTRY, R_TAX,
    R_FIELDS
};

static PyObject *level(long n) {
    return PyLong_FromLong(n); /* small ints: cached, no allocation */
}

/* -1 on an error, otherwise the level or -2 for None (`compare._one_name`). */
static long one_name(PyObject **a, PyObject **b, PyObject *fa, PyObject *fb) {
    if (EMPTY(a[R_NAME]) || EMPTY(b[R_NAME]) || (!EMPTY(a[R_FAMILY]) && !EMPTY(b[R_FAMILY]))) {
        return -2;
    }
    if (PyTuple_GET_SIZE(a[R_NUMBERS]) && PyTuple_GET_SIZE(b[R_NUMBERS])) {
        PyObject *differ = PyObject_CallFunctionObjArgs(py_numbers_differ, a[R_NUMBERS],
                                                        b[R_NUMBERS], NULL);
        if (differ == NULL) {
            return -1;
        }
        int yes = PyObject_IsTrue(differ);
        Py_DECREF(differ);
        if (yes) {
            return yes < 0 ? -1 : 0;
        }
    }
    if (equal(a[R_RAW], b[R_RAW])) {
        return 4;
    }
    if (equal(a[R_NAME], b[R_NAME]) || equal(a[R_SORTED], b[R_SORTED])) {
        return 3;
    }
    double sorted_alike, alike;
    if (score(&RATIO, a[R_SORTED], b[R_SORTED], 78, &sorted_alike) < 0 ||
        score(&RATIO, a[R_NAME], b[R_NAME], 78, &alike) < 0) {
        return -1;
    }
    if (sorted_alike > alike) { /* max(): the first of two equal scores */
        alike = sorted_alike;
    }
    if (alike >= 90) {
        return 2;
    }
    if (!(alike >= 78)) {
        return 0;
    }
    PyObject *heads = PyObject_CallFunctionObjArgs(py_heads_agree, a[R_TOKENS], b[R_TOKENS], NULL);
    if (heads == NULL) {
        return -1;
    }
    int yes = PyObject_IsTrue(heads);
    Py_DECREF(heads);
    return yes < 0 ? -1 : yes ? 1 : 0;
}

/* levels(row_a, row_b, a, b) -> the pattern `compare.levels(a, b)` gives. */
static PyObject *native_levels(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 4 || !PyTuple_CheckExact(args[0]) || !PyTuple_CheckExact(args[1]) ||
        PyTuple_GET_SIZE(args[0]) != R_FIELDS || PyTuple_GET_SIZE(args[1]) != R_FIELDS) {
        PyErr_SetString(PyExc_TypeError, "levels(row_a, row_b, a, b)");
        return NULL;
    }
    if (!scorers_ready) {
        PyErr_SetString(PyExc_RuntimeError, "levels before setup");
        return NULL;
    }
    PyObject **a = &PyTuple_GET_ITEM(args[0], 0), **b = &PyTuple_GET_ITEM(args[1], 0);
    PyObject *fa = args[2], *fb = args[3];
    for (int k = 0; k < R_FIELDS; k++) { /* what the rules below read without checking */
        int tuple = k == R_NUMBERS || k == R_TOKENS;
        if (k == R_TRADE) {
            continue;
        }
        if (tuple ? !(PyTuple_Check(a[k]) && PyTuple_Check(b[k]))
                  : !(PyUnicode_Check(a[k]) && PyUnicode_Check(b[k]))) {
            PyErr_Format(PyExc_TypeError, "field %d of a row is not a %s", k,
                         tuple ? "tuple" : "str");
            return NULL;
        }
    }
    PyObject *out = PyTuple_New(10);
    if (out == NULL) {
        return NULL;
    }
    long n;
    /* name */
    if (a[R_TRADE] != Py_None || b[R_TRADE] != Py_None) {
        PyObject *name = PyObject_CallFunctionObjArgs(py_name, fa, fb, NULL);
        if (name == NULL) {
            goto failed;
        }
        PyTuple_SET_ITEM(out, 0, name);
    } else {
        n = one_name(a, b, fa, fb);
        if (n == -1) {
            goto failed;
        }
        PyTuple_SET_ITEM(out, 0, n == -2 ? Py_NewRef(Py_None) : level(n));
    }
    /* first and last name */
    int given_both = !EMPTY(a[R_GIVEN]) && !EMPTY(b[R_GIVEN]);
    int family_both = !EMPTY(a[R_FAMILY]) && !EMPTY(b[R_FAMILY]);
    if (given_both || family_both) {
        PyObject *parts = PyObject_CallFunctionObjArgs(py_parts, fa, fb, NULL);
        if (parts == NULL) {
            goto failed;
        }
        if (!PyTuple_Check(parts) || PyTuple_GET_SIZE(parts) != 2) {
            Py_DECREF(parts);
            PyErr_SetString(PyExc_TypeError, "_parts gives two levels");
            goto failed;
        }
        PyObject *given = given_both ? PyTuple_GET_ITEM(parts, 0) : Py_None;
        PyObject *family = family_both ? PyTuple_GET_ITEM(parts, 1) : Py_None;
        PyTuple_SET_ITEM(out, 1, Py_NewRef(given));
        PyTuple_SET_ITEM(out, 2, Py_NewRef(family));
        Py_DECREF(parts);
    } else {
        PyTuple_SET_ITEM(out, 1, Py_NewRef(Py_None));
        PyTuple_SET_ITEM(out, 2, Py_NewRef(Py_None));
    }
    /* email */
    PyObject *x = a[R_EMAIL], *y = b[R_EMAIL];
    if (EMPTY(x) || EMPTY(y)) {
        n = -2;
    } else if (equal(x, y)) {
        n = 3;
    } else {
        Py_ssize_t xl = PyUnicode_GET_LENGTH(x), yl = PyUnicode_GET_LENGTH(y);
        Py_ssize_t xa = PyUnicode_FindChar(x, '@', 0, xl, 1);
        Py_ssize_t ya = PyUnicode_FindChar(y, '@', 0, yl, 1);
        if (xa == -2 || ya == -2) {
            goto failed;
        }
        /* str.partition: no "@" leaves the whole as the mailbox and no domain */
        Py_ssize_t x_local = xa < 0 ? xl : xa, y_local = ya < 0 ? yl : ya;
        Py_ssize_t x_domain = xa < 0 ? xl : xa + 1, y_domain = ya < 0 ? yl : ya + 1;
        Py_ssize_t x_dn = xl - x_domain, y_dn = yl - y_domain;
        int close = 0;
        if (x_dn == y_dn && equal_slices(x, x_domain, y, y_domain, x_dn) &&
            (x_local < y_local ? x_local : y_local) > 3) {
            close = one_edit(x, 0, x_local, y, 0, y_local);
            if (close < 0) {
                goto failed;
            }
        }
        if (close) {
            n = 2;
        } else {
            n = !EMPTY(a[R_DOMAIN]) && equal(a[R_DOMAIN], b[R_DOMAIN]) ? 1 : 0;
        }
    }
    PyTuple_SET_ITEM(out, 3, n == -2 ? Py_NewRef(Py_None) : level(n));
    /* website */
    x = a[R_WEBSITE], y = b[R_WEBSITE];
    PyTuple_SET_ITEM(out, 4, EMPTY(x) || EMPTY(y) ? Py_NewRef(Py_None) : level(equal(x, y)));
    /* phone: equal, or the same last 7 characters */
    x = a[R_PHONE], y = b[R_PHONE];
    if (EMPTY(x) || EMPTY(y)) {
        n = -2;
    } else if (equal(x, y)) {
        n = 2;
    } else {
        Py_ssize_t xl = PyUnicode_GET_LENGTH(x), yl = PyUnicode_GET_LENGTH(y);
        Py_ssize_t xs = xl < 7 ? xl : 7, ys = yl < 7 ? yl : 7;
        n = xs == ys && equal_slices(x, xl - xs, y, yl - ys, xs);
    }
    PyTuple_SET_ITEM(out, 5, n == -2 ? Py_NewRef(Py_None) : level(n));
    /* address */
    x = a[R_LINE1], y = b[R_LINE1];
    if (EMPTY(x) || EMPTY(y)) {
        n = -2;
    } else if (equal(x, y)) {
        n = 3;
    } else {
        double alike, set_alike;
        if (score(&RATIO, a[R_LINE1_SORTED], b[R_LINE1_SORTED], 0, &alike) < 0) {
            goto failed;
        }
        if (alike >= 88) {
            n = 2;
        } else if (alike >= 70) {
            n = 1;
        } else {
            if (score(&TOKEN_SET, x, y, 0, &set_alike) < 0) {
                goto failed;
            }
            n = set_alike >= 95;
        }
    }
    PyTuple_SET_ITEM(out, 6, n == -2 ? Py_NewRef(Py_None) : level(n));
    /* place: postal code, town and state as one */
    x = a[R_POSTAL], y = b[R_POSTAL];
    if (!EMPTY(x) && !EMPTY(y) && equal(x, y)) {
        n = 4;
    } else {
        int postal = -1, town = -1, state = -1; /* -1: None */
        if (!EMPTY(x) && !EMPTY(y)) {
            postal = one_edit(x, 0, PyUnicode_GET_LENGTH(x), y, 0, PyUnicode_GET_LENGTH(y));
            if (postal < 0) {
                goto failed;
            }
        }
        PyObject *ca = a[R_CITY], *cb = b[R_CITY];
        if (!EMPTY(ca) && !EMPTY(cb)) {
            if (equal(ca, cb)) {
                town = 1;
            } else {
                double similar;
                if (score(&JARO_WINKLER, ca, cb, 0, &similar) < 0) {
                    goto failed;
                }
                town = similar >= 0.9;
            }
        }
        PyObject *ra = a[R_REGION], *rb = b[R_REGION];
        if (!EMPTY(ra) && !EMPTY(rb)) {
            state = equal(ra, rb);
        }
        if (postal < 0 && town < 0 && state < 0) {
            n = -2;
        } else if (town == 1 && postal == 1) {
            n = 3;
        } else if (town == 1 && state != 0) {
            n = 2;
        } else {
            n = postal == 1 || (state == 1 && town < 0) ? 1 : 0;
        }
    }
    PyTuple_SET_ITEM(out, 7, n == -2 ? Py_NewRef(Py_None) : level(n));
    /* country */
    x = a[R_COUNTRY], y = b[R_COUNTRY];
    PyTuple_SET_ITEM(out, 8, EMPTY(x) || EMPTY(y) ? Py_NewRef(Py_None) : level(equal(x, y)));
    /* tax ID */
    x = a[R_TAX], y = b[R_TAX];
    if (EMPTY(x) || EMPTY(y)) {
        n = -2;
    } else if (equal(x, y)) {
        n = 2;
    } else {
        n = one_edit(x, 0, PyUnicode_GET_LENGTH(x), y, 0, PyUnicode_GET_LENGTH(y));
        if (n < 0) {
            goto failed;
        }
    }
    PyTuple_SET_ITEM(out, 9, n == -2 ? Py_NewRef(Py_None) : level(n));
    return out;
failed:
    Py_DECREF(out); /* unset items are NULL: tuple dealloc skips them */
    return NULL;
}


/* ---- A name read as `records.python_read_name` reads it, for plain ASCII names -------------
 *
 * The rules of names.py (`name_form`, `company_tokens`, `words`, `numbers_in`, `sound_key`)
 * and of `records.python_read_name`, over the bytes of a name whose every character is
 * printable ASCII (0x20-0x7E). There casefold is lower-casing, `\s` is the space alone, `\w`
 * a letter, a digit or "_", and no diacritic is to be taken apart; `read_name` answers None
 * for any other name, and Python reads it. names.py's tables come once, from `setup_names`;
 * the vocabulary's words (legal forms, filler, abbreviations, business words) are looked up
 * in the sets and dict of the Vocabulary passed with each name: a client's may be extended.
 */

#define NAME_CHARS 512 /* the most characters `words` reads of a string (MAX_CHARS, checked) */
#define WORDS_TEXT (5 * NAME_CHARS + 1) /* "&" is read " and ": five characters for one */
#define MAX_PHRASES 32
#define PHRASE_WORDS 4
#define MAX_FORMS 16
#define MAX_SEPARATORS 8
#define MAX_MARKERS 32
#define MARKER_TEXT 512

typedef struct {
    const char *s;
    Py_ssize_t n;
} Text;

typedef struct {
    Text words[PHRASE_WORDS];
    int n;
    PyObject *as; /* the word a trade phrase is read as (borrowed from `held`); NULL: legal */
} Phrase;

/* names.py's tables, as `setup_names` got them. Never freed: a call under way keeps the
 * tables it started with, even if Python code it runs (a Vocabulary's `business`) sets up
 * new ones. The texts point into the strings of `held`. */
typedef struct {
    PyObject *held; /* the arguments of `setup_names` */
    PyTypeObject *reading; /* records.NameReading */
    Py_ssize_t max_chars;
    Phrase legal[MAX_PHRASES], trade[MAX_PHRASES];
    int nlegal, ntrade;
    /* the first letters of their first words: most words start no phrase, seen at once */
    uint8_t legal_starts[128], trade_starts[128];
    Text forms[MAX_FORMS]; /* LONG_LEGAL_FORMS */
    int nforms;
    uint8_t initial[128]; /* LEGAL_INITIALS */
    PyObject *place_words;
    Text separators[MAX_SEPARATORS]; /* JOB_SEPARATORS, those an ASCII name can hold */
    int nseparators;
    Text markers[MAX_MARKERS]; /* TRADE_NAME_MARKERS, lower-cased into marker_text */
    int nmarkers;
    char marker_text[MARKER_TEXT];
    uint8_t marker_starts[128]; /* their first characters */
    uint8_t sound[128]; /* SOUND */
    PyObject *legal_forms, *filler, *abbreviations, *business; /* attribute names */
} Tables;

static const Tables *tables = NULL;

static inline int is_letter(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline int is_digit(char c) {
    return c >= '0' && c <= '9';
}

static inline int is_alnum(char c) {
    return is_letter(c) || is_digit(c);
}

static inline int is_word_char(char c) { /* `\w`, what `\b` stands between */
    return is_alnum(c) || c == '_';
}

static inline char lower(char c) {
    return c >= 'A' && c <= 'Z' ? (char)(c + ('a' - 'A')) : c;
}

static inline int same_text(Text a, const char *s, Py_ssize_t n) {
    return a.n == n && memcmp(a.s, s, (size_t)n) == 0;
}

/* str.strip() leaves something */
static int has_text(const char *s, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < n; i++) {
        if (s[i] != ' ') {
            return 1;
        }
    }
    return 0;
}

/* str.isalpha() of ASCII: not empty, letters only */
static int all_letters(const char *s, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < n; i++) {
        if (!is_letter(s[i])) {
            return 0;
        }
    }
    return n > 0;
}

/* An ASCII str from bytes. */
static PyObject *ascii_str(const char *s, Py_ssize_t n) {
    PyObject *out = PyUnicode_New(n, 127);
    if (out != NULL && n > 0) {
        memcpy(PyUnicode_1BYTE_DATA(out), s, (size_t)n);
    }
    return out;
}

static inline Text text_of(PyObject *ascii) {
    return (Text){(const char *)PyUnicode_1BYTE_DATA(ascii), PyUnicode_GET_LENGTH(ascii)};
}

/* ---- words ---- */

typedef struct {
    char text[WORDS_TEXT]; /* the words joined by single spaces: " ".join(words(...)) */
    Py_ssize_t length;
    int count;
    uint16_t at[NAME_CHARS], len[NAME_CHARS];
    PyObject *str[NAME_CHARS]; /* each word as a str, made when first looked up */
} Words;

static void words_clear(Words *w) {
    for (int i = 0; i < w->count; i++) {
        Py_CLEAR(w->str[i]);
    }
    w->count = 0;
    w->length = 0;
}

static inline Text word(const Words *w, int i) {
    return (Text){w->text + w->at[i], w->len[i]};
}

/* The i-th word as a str (borrowed: the Words hold it). */
static PyObject *word_str(Words *w, int i) {
    if (w->str[i] == NULL) {
        w->str[i] = ascii_str(w->text + w->at[i], w->len[i]);
    }
    return w->str[i];
}

/* Where DOTTED (`\b(?:[^\W\d_]\.)+[^\W\d_]?\b\.?`) matches from p on, or 0. Worked out
 * from how the regex backtracks: the most letter-dot pairs first; after them a letter that
 * ends a word ("l.l.c") and its dot; else the dots end before a word character ("a.bc",
 * "a.b.3"); else, with two pairs or more, the last pair's letter ends the word and its dot
 * is taken by `\.?` ("l.l.c."); one pair before a non-word character ("a. b") is no match. */
static Py_ssize_t dotted_at(const char *s, Py_ssize_t n, Py_ssize_t p) {
    if (!is_letter(s[p]) || (p > 0 && is_word_char(s[p - 1]))) {
        return 0;
    }
    Py_ssize_t q = p;
    while (q + 1 < n && is_letter(s[q]) && s[q + 1] == '.') {
        q += 2;
    }
    if (q == p) {
        return 0;
    }
    if (q < n && is_letter(s[q]) && (q + 1 == n || !is_word_char(s[q + 1]))) {
        return q + 1 < n && s[q + 1] == '.' ? q + 2 : q + 1;
    }
    if (q < n && is_word_char(s[q])) {
        return q;
    }
    return q - p >= 4 ? q : 0;
}

/* DOTTED.sub(lambda m: m.group().replace(".", "") + " ", s) into out (never longer: a
 * match has a dot for each letter it loses). Matches are looked for in `s` as written. */
static Py_ssize_t undot(const char *s, Py_ssize_t n, char *out) {
    Py_ssize_t o = 0, p = 0;
    while (p < n) {
        Py_ssize_t end = dotted_at(s, n, p);
        if (end == 0) {
            out[o++] = s[p++];
            continue;
        }
        for (; p < end; p++) {
            if (s[p] != '.') {
                out[o++] = s[p];
            }
        }
        out[o++] = ' ';
    }
    return o;
}

static void begin_word(Words *w) {
    if (w->count > 0) {
        w->text[w->length++] = ' ';
    }
    w->at[w->count] = (uint16_t)w->length;
}

static void end_word(Words *w) {
    w->len[w->count] = (uint16_t)(w->length - w->at[w->count]);
    w->str[w->count] = NULL;
    w->count++;
}

/* names.words: at most max_chars characters, lower-cased, dotted letters joined, "&" read
 * " and ", apostrophes dropped ("o'brien" is one word), then the runs of letters and
 * digits ("_" parts them, as WORD's [^\W_] does). */
static void read_words(const Tables *t, Text in, Words *w) {
    char low[NAME_CHARS], dotless[NAME_CHARS];
    Py_ssize_t n = in.n < t->max_chars ? in.n : t->max_chars;
    int dots = 0;
    words_clear(w);
    for (Py_ssize_t i = 0; i < n; i++) {
        low[i] = lower(in.s[i]);
        dots |= low[i] == '.';
    }
    const char *s = low;
    if (dots) {
        n = undot(low, n, dotless);
        s = dotless;
    }
    int inside = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '\'') {
            continue;
        }
        if (is_alnum(c)) {
            if (!inside) {
                begin_word(w);
                inside = 1;
            }
            w->text[w->length++] = c;
            continue;
        }
        if (inside) {
            end_word(w);
            inside = 0;
        }
        if (c == '&') {
            begin_word(w);
            memcpy(w->text + w->length, "and", 3);
            w->length += 3;
            end_word(w);
        }
    }
    if (inside) {
        end_word(w);
    }
}

/* ---- name_form ---- */

/* What the steps below answer: a step DONE, or a question's YES or NO; FAILED with an
 * exception set; SLOW where the rules here do not apply (Python reads the name). */
enum { DONE = 0, NO = 0, YES = 1, FAILED = -1, SLOW = -2 };

typedef struct {
    Text name;   /* the name as compared: a slice of the name, or `joined` */
    Text trade;  /* "X dba Y": Y, a slice of the name */
    Text given, family; /* a person's parts: slices of the Reading's words */
    int household;
    char joined[WORDS_TEXT];
} Form;

/* One name being read: the call's vocabulary and the work space of the rules below (on the
 * heap: some 60 kB, and Python code run from a lookup may read another name meanwhile). */
typedef struct {
    const Tables *t;
    PyObject *vocabulary, *legal, *filler, *abbreviations; /* owned */
    PyObject *business; /* owned, read when first needed, as name_form reads it */
    Words name_words; /* words(name) as name_form read them */
    Text name_words_of;
    Words family_part, given_part, raw, scratch;
    Form form;
    int kept[NAME_CHARS]; /* word numbers, or -1 - a trade phrase's number */
    PyObject *expanded[NAME_CHARS]; /* owned, `nexpanded` of them */
    int nexpanded;
    PyObject *tokens[NAME_CHARS]; /* owned, `ntokens` of them */
    int ntokens;
} Reading;

static int exact_set(PyObject *o) {
    return PyFrozenSet_CheckExact(o) || PySet_CheckExact(o);
}

/* `word in vocabulary.business`, the attribute read when first needed (as name_form reads
 * it: only where a name may be a person's); SLOW for a business that is not a plain set. */
static int in_business(Reading *r, PyObject *word) {
    if (r->business == NULL) {
        r->business = PyObject_GetAttr(r->vocabulary, r->t->business);
        if (r->business == NULL) {
            return FAILED;
        }
    }
    if (!exact_set(r->business)) {
        return SLOW;
    }
    return PySet_Contains(r->business, word);
}

/* Every word of `which` a person's: letters only, none a business word. */
static int person_words(Reading *r, Words *w, const int *which, int n) {
    for (int k = 0; k < n; k++) {
        if (!all_letters(w->text + w->at[which[k]], w->len[which[k]])) {
            return NO;
        }
    }
    for (int k = 0; k < n; k++) {
        PyObject *s = word_str(w, which[k]);
        if (s == NULL) {
            return FAILED;
        }
        int found = in_business(r, s);
        if (found != NO) {
            return found == YES ? NO : found;
        }
    }
    return YES;
}

/* The first of JOB_SEPARATORS in the name with something before it and a number after
 * ("Smith - 12 Oak St"): the name is cut there. */
static int job_head(const Tables *t, Text *name) {
    for (int k = 0; k < t->nseparators; k++) {
        Text sep = t->separators[k];
        for (Py_ssize_t at = 0; at + sep.n <= name->n; at++) {
            if (name->s[at] != sep.s[0] || memcmp(name->s + at, sep.s, (size_t)sep.n) != 0) {
                continue;
            }
            Py_ssize_t site = at + sep.n;
            while (site < name->n && name->s[site] == ' ') {
                site++;
            }
            if (has_text(name->s, at) && site < name->n && is_digit(name->s[site])) {
                name->n = at;
                return 1;
            }
            break; /* str.partition: the first one only */
        }
    }
    return 0;
}

/* TRADE_SPLIT's first match: spaces, then a marker (any case) followed by a space, then the
 * spaces after it. It starts where a run of spaces starts: `\s+` gives back to a marker
 * only the run's end, as no marker starts with a space (`setup_names` checks). */
static int trade_split(const Tables *t, Text name, Py_ssize_t *start, Py_ssize_t *end) {
    const char *s = name.s;
    Py_ssize_t n = name.n;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (s[i] != ' ') {
            continue;
        }
        Py_ssize_t j = i;
        while (j < n && s[j] == ' ') {
            j++;
        }
        for (int k = 0; j < n && t->marker_starts[(unsigned char)lower(s[j])] && k < t->nmarkers;
             k++) {
            Text m = t->markers[k];
            if (j + m.n >= n || s[j + m.n] != ' ') {
                continue;
            }
            Py_ssize_t c = 0;
            while (c < m.n && lower(s[j + c]) == m.s[c]) {
                c++;
            }
            if (c == m.n) {
                Py_ssize_t e = j + m.n;
                while (e < n && s[e] == ' ') {
                    e++;
                }
                *start = i;
                *end = e;
                return 1;
            }
        }
        i = j;
    }
    return 0;
}

/* "Smith, Robert": one comma, one or two words of letters on each side, none a business
 * word: YES, the name is a person's so written (the form is filled in). */
static int family_first(Reading *r, Text name, Py_ssize_t comma) {
    Words *family = &r->family_part, *given = &r->given_part;
    Text after = {name.s + comma + 1, name.n - comma - 1};
    read_words(r->t, (Text){name.s, comma}, family);
    read_words(r->t, after, given);
    if (memchr(after.s, ',', (size_t)after.n) != NULL || family->count < 1 ||
        family->count > 2 || given->count < 1 || given->count > 2) {
        return NO;
    }
    static const int all[2] = {0, 1};
    int person = person_words(r, family, all, family->count);
    if (person == 1) {
        person = person_words(r, given, all, given->count);
    }
    if (person != YES) {
        return person;
    }
    r->form.name = name;
    r->form.given = (Text){given->text, given->length};
    r->form.family = (Text){family->text, family->length};
    return YES;
}

/* The name's words without filler (`ws`), as numbers of r->name_words. */
static int without_filler(Reading *r, Text name, int *ws, int *nws) {
    Words *w = &r->name_words;
    read_words(r->t, name, w);
    r->name_words_of = name;
    *nws = 0;
    for (int i = 0; i < w->count; i++) {
        PyObject *s = word_str(w, i);
        if (s == NULL) {
            return FAILED;
        }
        int filler = PySet_Contains(r->filler, s);
        if (filler < 0) {
            return FAILED;
        }
        if (!filler) {
            ws[(*nws)++] = i;
        }
    }
    return DONE;
}

/* "Smith Residence", "The John Smith Household": the person's words before a place word. */
static int place(Reading *r, const int *ws, int nws) {
    Words *w = &r->name_words;
    if (nws < 2 || nws > 3) {
        return NO;
    }
    PyObject *last = word_str(w, ws[nws - 1]);
    if (last == NULL) {
        return FAILED;
    }
    int found = PySet_Contains(r->t->place_words, last);
    if (found != YES) {
        return found;
    }
    int person = person_words(r, w, ws, nws - 1);
    if (person != YES) {
        return person;
    }
    Form *f = &r->form;
    Py_ssize_t length = 0;
    for (int k = 0; k < nws - 1; k++) {
        Text part = word(w, ws[k]);
        if (k > 0) {
            f->joined[length++] = ' ';
        }
        memcpy(f->joined + length, part.s, (size_t)part.n);
        length += part.n;
    }
    f->name = (Text){f->joined, length};
    f->given = nws == 3 ? word(w, ws[0]) : (Text){"", 0};
    f->family = word(w, ws[nws - 2]);
    f->household = 1;
    return YES;
}

/* names.name_form into r->form. */
static int name_form(Reading *r, Text name) {
    Form *f = &r->form;
    int ws[NAME_CHARS], nws;
    int job = job_head(r->t, &name);
    Py_ssize_t start, end;
    if (trade_split(r->t, name, &start, &end) && has_text(name.s, start) &&
        has_text(name.s + end, name.n - end)) {
        f->name = (Text){name.s, start};
        f->trade = (Text){name.s + end, name.n - end};
        return DONE;
    }
    const char *comma = memchr(name.s, ',', (size_t)name.n);
    int rule = comma == NULL ? NO : family_first(r, name, comma - name.s);
    if (rule != NO) {
        return rule == YES ? DONE : rule;
    }
    if (without_filler(r, name, ws, &nws) < 0) {
        return FAILED;
    }
    rule = place(r, ws, nws);
    if (rule != NO) {
        return rule == YES ? DONE : rule;
    }
    f->name = name;
    rule = job && nws == 1 ? person_words(r, &r->name_words, ws, 1) : NO;
    if (rule == YES) { /* "Anderson - 38 Ann Street": the Andersons' job */
        f->family = word(&r->name_words, ws[0]);
        f->household = 1;
    }
    return rule < 0 ? rule : DONE;
}

/* ---- company_tokens ---- */

/* The phrase of `phrases` that the words from `from` start with, or -1. */
static int phrase_at(const Phrase *phrases, int nphrases, const uint8_t *starts, Words *w,
                     const int *words_of, int n, int from) {
    if (!starts[(unsigned char)w->text[w->at[words_of[from]]]]) {
        return -1;
    }
    for (int p = 0; p < nphrases; p++) {
        const Phrase *phrase = &phrases[p];
        int k = 0;
        while (k < phrase->n && from + k < n &&
               same_text(phrase->words[k], w->text + w->at[words_of[from + k]],
                         w->len[words_of[from + k]])) {
            k++;
        }
        if (k == phrase->n) {
            return p;
        }
    }
    return -1;
}

/* names._drop_phrases then _join_phrases: into r->kept, each a word's number or -1 - the
 * number of the trade phrase read in its place. */
static int phrases(Reading *r, Words *raw) {
    const Tables *t = r->t;
    int all[NAME_CHARS], dropped[NAME_CHARS], ndropped = 0, nkept = 0;
    for (int i = 0; i < raw->count; i++) {
        all[i] = i;
    }
    for (int i = 0; i < raw->count;) {
        int p = phrase_at(t->legal, t->nlegal, t->legal_starts, raw, all, raw->count, i);
        if (p >= 0) {
            i += t->legal[p].n;
        } else {
            dropped[ndropped++] = i++;
        }
    }
    for (int i = 0; i < ndropped;) {
        int p = phrase_at(t->trade, t->ntrade, t->trade_starts, raw, dropped, ndropped, i);
        if (p >= 0) {
            r->kept[nkept++] = -1 - p;
            i += t->trade[p].n;
        } else {
            r->kept[nkept++] = dropped[i++];
        }
    }
    return nkept;
}

/* abbreviations.get(word, word), SLOW for a value that is not a plain ASCII str. */
static int expand(Reading *r, PyObject *key, PyObject **out) {
    PyObject *value = PyDict_GetItemWithError(r->abbreviations, key);
    if (value == NULL) {
        if (PyErr_Occurred()) {
            return FAILED;
        }
        value = key;
    }
    if (!PyUnicode_CheckExact(value) || !PyUnicode_IS_ASCII(value)) {
        return SLOW;
    }
    *out = Py_NewRef(value);
    return DONE;
}

/* Whether two ASCII words are at most one edit apart (Levenshtein). */
static int one_edit_apart(Text a, Text b) {
    if (a.n < b.n) {
        Text c = a;
        a = b;
        b = c;
    }
    if (a.n - b.n > 1) {
        return 0;
    }
    Py_ssize_t i = 0;
    while (i < b.n && a.s[i] == b.s[i]) {
        i++;
    }
    if (a.n == b.n) { /* one substitution at i, the rest equal */
        return i >= b.n - 1 || memcmp(a.s + i + 1, b.s + i + 1, (size_t)(b.n - i - 1)) == 0;
    }
    return memcmp(a.s + i + 1, b.s + i, (size_t)(b.n - i)) == 0; /* a's extra character at i */
}

/* names._misspelt_legal_form */
static int misspelt_legal_form(Reading *r, PyObject *word_obj) {
    Text w = text_of(word_obj);
    if (w.n < 6 || !r->t->initial[(unsigned char)w.s[0]] || !all_letters(w.s, w.n)) {
        return NO;
    }
    int legal = PySet_Contains(r->legal, word_obj);
    if (legal != NO) {
        return legal == YES ? NO : FAILED;
    }
    for (int k = 0; k < r->t->nforms; k++) {
        if (one_edit_apart(w, r->t->forms[k])) {
            return YES;
        }
    }
    return NO;
}

/* names.company_tokens(whole) into r->tokens. */
static int company_tokens(Reading *r, Text whole) {
    Words *raw = &r->name_words;
    if (!(r->name_words_of.s == whole.s && r->name_words_of.n == whole.n)) {
        raw = &r->raw;
        read_words(r->t, whole, raw);
    }
    int n = phrases(r, raw);
    for (int i = 0; i < n; i++) {
        PyObject *key = r->kept[i] >= 0 ? word_str(raw, r->kept[i]) : r->t->trade[-1 - r->kept[i]].as;
        int rc = key == NULL ? FAILED : expand(r, key, &r->expanded[r->nexpanded]);
        if (rc != DONE) {
            return rc;
        }
        r->nexpanded++;
    }
    if (n > 1) {
        int misspelt = misspelt_legal_form(r, r->expanded[n - 1]);
        if (misspelt < 0) {
            return FAILED;
        }
        n -= misspelt; /* "2209925 Ontario Limitd" is "2209925 Ontario Limited" */
    }
    for (int i = 0; i < n; i++) {
        PyObject *w = r->expanded[i];
        int legal = PySet_Contains(r->legal, w);
        int filler = legal == 0 ? PySet_Contains(r->filler, w) : 0;
        if (legal < 0 || filler < 0) {
            return FAILED;
        }
        if (!legal && !filler) {
            r->tokens[r->ntokens++] = Py_NewRef(w);
        }
    }
    if (r->ntokens > 0) {
        return DONE;
    }
    /* nothing kept: "LLC" keeps its words, there is nothing else to compare */
    for (int i = 0; i < raw->count; i++) {
        PyObject *key = word_str(raw, i);
        int rc = key == NULL ? FAILED : expand(r, key, &r->tokens[r->ntokens]);
        if (rc != DONE) {
            return rc;
        }
        r->ntokens++;
    }
    return DONE;
}

/* ---- the reading ---- */

/* prefix + separator.join(items) of ASCII strs (a separator of "" for none) */
static PyObject *join_after(const char *prefix, const char *separator, PyObject *const *items,
                            int n) {
    size_t before = strlen(prefix), between = strlen(separator);
    Py_ssize_t size = (Py_ssize_t)(before + (n > 0 ? (size_t)(n - 1) * between : 0));
    for (int i = 0; i < n; i++) {
        size += PyUnicode_GET_LENGTH(items[i]);
    }
    PyObject *out = PyUnicode_New(size, 127);
    if (out == NULL) {
        return NULL;
    }
    char *d = (char *)PyUnicode_1BYTE_DATA(out);
    memcpy(d, prefix, before);
    d += before;
    for (int i = 0; i < n; i++) {
        Text w = text_of(items[i]);
        if (i > 0) {
            memcpy(d, separator, between);
            d += between;
        }
        memcpy(d, w.s, (size_t)w.n);
        d += w.n;
    }
    return out;
}

/* " ".join(items) of ASCII strs */
static PyObject *join_ascii(PyObject *const *items, int n) {
    return join_after("", " ", items, n);
}

/* Python's order of str, for ASCII: byte by byte, a prefix first */
static int by_codepoints(const void *x, const void *y) {
    Text a = text_of(*(PyObject *const *)x), b = text_of(*(PyObject *const *)y);
    int c = memcmp(a.s, b.s, (size_t)(a.n < b.n ? a.n : b.n));
    return c != 0 ? c : (a.n > b.n) - (a.n < b.n);
}

static PyObject *sorted_name(PyObject *const *tokens, int n, PyObject *joined) {
    if (n <= 1) {
        return Py_NewRef(joined);
    }
    PyObject *order[NAME_CHARS];
    memcpy(order, tokens, sizeof(PyObject *) * n);
    qsort(order, n, sizeof(PyObject *), by_codepoints);
    return join_ascii(order, n);
}

/* The runs of digits of a token, counted (out NULL) or put in `out` from `at` on. */
static int digit_runs(Text w, PyObject *out, Py_ssize_t at) {
    int runs = 0;
    for (Py_ssize_t c = 0; c < w.n;) {
        if (!is_digit(w.s[c])) {
            c++;
            continue;
        }
        Py_ssize_t from = c;
        while (c < w.n && is_digit(w.s[c])) {
            c++;
        }
        if (out != NULL) {
            PyObject *number = ascii_str(w.s + from, c - from);
            if (number == NULL) {
                return -1;
            }
            PyTuple_SET_ITEM(out, at + runs, number);
        }
        runs++;
    }
    return runs;
}

/* names.numbers_in: the runs of digits of every token that is not all letters. */
static PyObject *numbers_in(PyObject *const *tokens, int n) {
    Py_ssize_t count = 0;
    for (int i = 0; i < n; i++) {
        Text w = text_of(tokens[i]);
        count += all_letters(w.s, w.n) ? 0 : digit_runs(w, NULL, 0);
    }
    PyObject *out = PyTuple_New(count);
    for (int i = 0, at = 0; out != NULL && i < n && at < count; i++) {
        Text w = text_of(tokens[i]);
        int runs = all_letters(w.s, w.n) ? 0 : digit_runs(w, out, at);
        if (runs < 0) {
            Py_CLEAR(out); /* the items not set are NULL: tuple dealloc skips them */
        }
        at += runs;
    }
    return out;
}

/* names.sound_key of an ASCII word, written into `key` (four characters): the word itself
 * when it starts with no letter. */
static Text sound_text(const Tables *t, Text w, char key[4]) {
    if (w.n == 0 || !is_letter(w.s[0])) {
        return w;
    }
    memcpy(key, "0000", 4);
    key[0] = w.s[0];
    int k = 1;
    uint8_t last = t->sound[(unsigned char)w.s[0]];
    for (Py_ssize_t i = 1; i < w.n && k < 4; i++) { /* past four, nothing is kept */
        uint8_t digit = t->sound[(unsigned char)w.s[i]];
        if (digit && digit != last) {
            key[k++] = (char)('0' + digit);
        }
        if (w.s[i] != 'h' && w.s[i] != 'w') {
            last = digit;
        }
    }
    return (Text){key, 4};
}

/* names.sound_key of an ASCII word */
static PyObject *sound_key(const Tables *t, PyObject *word_obj) {
    char key[4];
    Text heard = sound_text(t, text_of(word_obj), key);
    return heard.s == key ? ascii_str(key, 4) : Py_NewRef(word_obj);
}

/* The sound keys of the tokens of more than one character. */
static PyObject *sounds_of(const Tables *t, PyObject *const *tokens, int n) {
    Py_ssize_t count = 0;
    for (int i = 0; i < n; i++) {
        count += PyUnicode_GET_LENGTH(tokens[i]) > 1;
    }
    PyObject *out = PyTuple_New(count);
    for (int i = 0, at = 0; out != NULL && i < n; i++) {
        if (PyUnicode_GET_LENGTH(tokens[i]) <= 1) {
            continue;
        }
        PyObject *key = sound_key(t, tokens[i]);
        if (key == NULL) {
            Py_CLEAR(out);
            break;
        }
        PyTuple_SET_ITEM(out, at++, key);
    }
    return out;
}

/* " ".join(words(text)) */
static PyObject *joined_words(Reading *r, Text text) {
    read_words(r->t, text, &r->scratch);
    return ascii_str(r->scratch.text, r->scratch.length);
}

/* name.casefold().strip() */
static PyObject *raw_of(Text name) {
    Py_ssize_t from = 0, to = name.n;
    while (from < to && name.s[from] == ' ') {
        from++;
    }
    while (to > from && name.s[to - 1] == ' ') {
        to--;
    }
    PyObject *out = PyUnicode_New(to - from, 127);
    if (out != NULL) {
        char *d = (char *)PyUnicode_1BYTE_DATA(out);
        for (Py_ssize_t i = from; i < to; i++) {
            d[i - from] = lower(name.s[i]);
        }
    }
    return out;
}

static int any_alnum(Text text) {
    for (Py_ssize_t i = 0; i < text.n; i++) {
        if (is_alnum(text.s[i])) {
            return 1;
        }
    }
    return 0;
}

/* The ten fields of a NameReading, in its order (`setup_names` checks `_fields`). */
static PyObject *reading_fields(Reading *r, Text name, Text given_name, Text family_name) {
    const Tables *t = r->t;
    Form *f = &r->form;
    PyObject *tokens = PyTuple_New(r->ntokens);
    if (tokens == NULL) {
        return NULL;
    }
    for (int i = 0; i < r->ntokens; i++) {
        PyTuple_SET_ITEM(tokens, i, Py_NewRef(r->tokens[i]));
    }
    PyObject *joined = join_ascii(r->tokens, r->ntokens);
    int parts = given_name.n > 0 || family_name.n > 0;
    Text given = parts ? given_name : f->given, family = parts ? family_name : f->family;
    PyObject *fields[10] = {
        raw_of(name),
        tokens,
        joined,
        joined ? sorted_name(r->tokens, r->ntokens, joined) : NULL,
        numbers_in(r->tokens, r->ntokens),
        joined_words(r, given),
        joined_words(r, family),
        ascii_str(f->trade.s, f->trade.n),
        sounds_of(t, r->tokens, r->ntokens),
        joined_words(r, f->household ? f->family : (Text){"", 0}),
    };
    PyObject *out = PyTuple_New(10);
    for (int i = 0; i < 10; i++) {
        if (fields[i] == NULL) {
            Py_CLEAR(out);
        }
    }
    for (int i = 0; i < 10; i++) {
        if (out != NULL) {
            PyTuple_SET_ITEM(out, i, fields[i]);
        } else {
            Py_XDECREF(fields[i]);
        }
    }
    return out;
}

/* records.python_read_name's answer as a plain tuple, or Py_None when SLOW. */
static PyObject *read_ascii_name(Reading *r, Text name, Text given_name, Text family_name) {
    int rc = name_form(r, name);
    if (rc != DONE) {
        return rc == SLOW ? Py_NewRef(Py_None) : NULL;
    }
    /* whole = form.name or f"{given_name} {family_name}" */
    Text whole = r->form.name;
    char both[NAME_CHARS];
    int alnum = any_alnum(whole);
    if (whole.n == 0) {
        Py_ssize_t n = 0;
        for (Py_ssize_t i = 0; i < given_name.n && n < r->t->max_chars; i++) {
            both[n++] = given_name.s[i];
        }
        if (n < r->t->max_chars) {
            both[n++] = ' ';
        }
        for (Py_ssize_t i = 0; i < family_name.n && n < r->t->max_chars; i++) {
            both[n++] = family_name.s[i];
        }
        whole = (Text){both, n}; /* as much of it as words() reads */
        alnum = any_alnum(given_name) || any_alnum(family_name);
    }
    /* A name of no letter or digit ("&") says nothing of who it is, so it is none. */
    if (alnum) {
        rc = company_tokens(r, whole);
        if (rc != DONE) {
            return rc == SLOW ? Py_NewRef(Py_None) : NULL;
        }
    }
    return reading_fields(r, name, given_name, family_name);
}

/* One Reading kept from the last call (the GIL is held between the two): allocating some
 * 60 kB each time took longer than reading most names. A call made meanwhile from Python
 * code run by a lookup finds none spare and allocates its own. */
static Reading *spare = NULL;

/* Only what is read before it is written is set: zeroing all of it would take longer than
 * reading most names. */
static Reading *reading_new(const Tables *t) {
    Reading *r = spare;
    spare = NULL;
    if (r == NULL && (r = PyMem_Malloc(sizeof(Reading))) == NULL) {
        return NULL;
    }
    Words *all[] = {&r->name_words, &r->family_part, &r->given_part, &r->raw, &r->scratch};
    for (size_t k = 0; k < sizeof(all) / sizeof(all[0]); k++) {
        all[k]->count = 0;
        all[k]->length = 0;
    }
    r->t = t;
    r->vocabulary = r->legal = r->filler = r->abbreviations = r->business = NULL;
    r->name_words_of = (Text){NULL, 0};
    r->form.name = r->form.trade = r->form.given = r->form.family = (Text){"", 0};
    r->form.household = 0;
    r->nexpanded = r->ntokens = 0;
    return r;
}

static void reading_free(Reading *r) {
    Words *all[] = {&r->name_words, &r->family_part, &r->given_part, &r->raw, &r->scratch};
    for (size_t k = 0; k < sizeof(all) / sizeof(all[0]); k++) {
        words_clear(all[k]);
    }
    for (int i = 0; i < r->nexpanded; i++) {
        Py_DECREF(r->expanded[i]);
    }
    for (int i = 0; i < r->ntokens; i++) {
        Py_DECREF(r->tokens[i]);
    }
    Py_XDECREF(r->vocabulary);
    Py_XDECREF(r->legal);
    Py_XDECREF(r->filler);
    Py_XDECREF(r->abbreviations);
    Py_XDECREF(r->business);
    if (spare == NULL) {
        spare = r;
    } else {
        PyMem_Free(r);
    }
}

/* Every character printable ASCII (0x20-0x7E): what the rules above are written for. */
static int plain_ascii(PyObject *text) {
    if (!PyUnicode_CheckExact(text) || !PyUnicode_IS_ASCII(text)) {
        return 0;
    }
    Text t = text_of(text);
    for (Py_ssize_t i = 0; i < t.n; i++) {
        if (t.s[i] < 0x20 || t.s[i] > 0x7E) {
            return 0;
        }
    }
    return 1;
}

/* The vocabulary's legal forms, filler and abbreviations, when plain sets and a plain dict
 * (anything else, a subclass that may look words up its own way: 0, Python reads it). */
static int vocabulary_of(Reading *r, PyObject *vocabulary) {
    r->vocabulary = Py_NewRef(vocabulary);
    r->legal = PyObject_GetAttr(vocabulary, r->t->legal_forms);
    r->filler = r->legal ? PyObject_GetAttr(vocabulary, r->t->filler) : NULL;
    r->abbreviations = r->filler ? PyObject_GetAttr(vocabulary, r->t->abbreviations) : NULL;
    if (r->abbreviations == NULL) {
        return FAILED;
    }
    return exact_set(r->legal) && exact_set(r->filler) && PyDict_CheckExact(r->abbreviations)
               ? DONE
               : SLOW;
}

/* read_name(name, given_name, family_name, vocabulary) -> records.NameReading, or None
 * for a name not of printable ASCII (or a vocabulary of other kinds of tables). */
static PyObject *native_read_name(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "read_name(name, given_name, family_name, vocabulary)");
        return NULL;
    }
    const Tables *t = tables;
    if (t == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "read_name before setup_names");
        return NULL;
    }
    if (!plain_ascii(args[0]) || !plain_ascii(args[1]) || !plain_ascii(args[2])) {
        Py_RETURN_NONE;
    }
    Reading *r = reading_new(t);
    if (r == NULL) {
        return PyErr_NoMemory();
    }
    PyObject *fields = NULL;
    int rc = vocabulary_of(r, args[3]);
    if (rc == DONE) {
        fields = read_ascii_name(r, text_of(args[0]), text_of(args[1]), text_of(args[2]));
    } else if (rc == SLOW) {
        fields = Py_NewRef(Py_None);
    }
    reading_free(r);
    if (fields == NULL || fields == Py_None) {
        return fields;
    }
    /* the NamedTuple made as tuple.__new__(NameReading, fields) makes it */
    PyObject *pack = PyTuple_Pack(1, fields);
    Py_DECREF(fields);
    if (pack == NULL) {
        return NULL;
    }
    PyObject *out = PyTuple_Type.tp_new(t->reading, pack, NULL);
    Py_DECREF(pack);
    return out;
}

/* ---- setup_names ---- */

/* An ASCII str's text, or a ValueError naming what it is in. */
static int ascii_text(PyObject *o, const char *what, Text *out) {
    if (!PyUnicode_CheckExact(o) || !PyUnicode_IS_ASCII(o)) {
        PyErr_Format(PyExc_ValueError, "%s: ASCII str expected", what);
        return -1;
    }
    *out = text_of(o);
    return 0;
}

/* A phrase, a tuple of ASCII words: LEGAL_PHRASES' and TRADE_PHRASES' keys. */
static int phrase_from(PyObject *words_of, Phrase *out, uint8_t *starts) {
    if (!PyTuple_CheckExact(words_of) || PyTuple_GET_SIZE(words_of) < 1 ||
        PyTuple_GET_SIZE(words_of) > PHRASE_WORDS) {
        PyErr_SetString(PyExc_ValueError, "a phrase is a tuple of 1 to 4 words");
        return -1;
    }
    out->n = (int)PyTuple_GET_SIZE(words_of);
    for (int k = 0; k < out->n; k++) {
        if (ascii_text(PyTuple_GET_ITEM(words_of, k), "a phrase's word", &out->words[k]) < 0) {
            return -1;
        }
    }
    if (out->words[0].n > 0) { /* an empty word is never a word read: nor its phrase */
        starts[(unsigned char)out->words[0].s[0]] = 1;
    }
    return 0;
}

static int phrases_from(Tables *t, PyObject *legal, PyObject *trade) {
    if (!PyTuple_CheckExact(legal) || !PyDict_CheckExact(trade) ||
        PyTuple_GET_SIZE(legal) > MAX_PHRASES || PyDict_GET_SIZE(trade) > MAX_PHRASES) {
        PyErr_SetString(PyExc_ValueError, "LEGAL_PHRASES, a tuple; TRADE_PHRASES, a dict");
        return -1;
    }
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(legal); k++) {
        if (phrase_from(PyTuple_GET_ITEM(legal, k), &t->legal[t->nlegal++], t->legal_starts) < 0) {
            return -1;
        }
    }
    PyObject *key, *value;
    Py_ssize_t at = 0;
    while (PyDict_Next(trade, &at, &key, &value)) {
        Phrase *phrase = &t->trade[t->ntrade++];
        Text unused;
        if (phrase_from(key, phrase, t->trade_starts) < 0 || ascii_text(value, "a trade phrase's word", &unused) < 0) {
            return -1;
        }
        phrase->as = value;
    }
    return 0;
}

static int words_from(PyObject *seq, const char *what, Text *out, int most, int *n) {
    if (!PyTuple_CheckExact(seq) || PyTuple_GET_SIZE(seq) > most) {
        PyErr_Format(PyExc_ValueError, "%s: a tuple of at most %d", what, most);
        return -1;
    }
    *n = 0;
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(seq); k++) {
        if (ascii_text(PyTuple_GET_ITEM(seq, k), what, &out[(*n)++]) < 0) {
            return -1;
        }
    }
    return 0;
}

/* JOB_SEPARATORS: only those an ASCII name can hold (the dashes are not), in their order. */
static int separators_from(Tables *t, PyObject *seq) {
    if (!PyTuple_CheckExact(seq) || PyTuple_GET_SIZE(seq) > MAX_SEPARATORS) {
        PyErr_SetString(PyExc_ValueError, "JOB_SEPARATORS: a tuple of at most 8");
        return -1;
    }
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(seq); k++) {
        PyObject *sep = PyTuple_GET_ITEM(seq, k);
        if (!PyUnicode_CheckExact(sep) || PyUnicode_GET_LENGTH(sep) == 0) {
            PyErr_SetString(PyExc_ValueError, "a job separator is a str, not empty");
            return -1;
        }
        if (PyUnicode_IS_ASCII(sep)) {
            t->separators[t->nseparators++] = text_of(sep);
        }
    }
    return 0;
}

/* TRADE_NAME_MARKERS, lower-cased (TRADE_SPLIT ignores case); none may start with a space,
 * nor hold a character `\s` matches but the space (trade_split reads them so). */
static int markers_from(Tables *t, PyObject *seq) {
    Text marker[MAX_MARKERS];
    int n;
    if (words_from(seq, "TRADE_NAME_MARKERS", marker, MAX_MARKERS, &n) < 0) {
        return -1;
    }
    Py_ssize_t used = 0;
    for (int k = 0; k < n; k++) {
        Text m = marker[k];
        if (m.n == 0 || m.s[0] == ' ' || used + m.n > MARKER_TEXT) {
            PyErr_SetString(PyExc_ValueError, "a trade marker: text that starts with no space");
            return -1;
        }
        for (Py_ssize_t c = 0; c < m.n; c++) {
            if (m.s[c] < 0x20 || m.s[c] > 0x7E) {
                PyErr_SetString(PyExc_ValueError, "a trade marker: printable ASCII");
                return -1;
            }
            t->marker_text[used + c] = lower(m.s[c]);
        }
        t->markers[t->nmarkers++] = (Text){t->marker_text + used, m.n};
        t->marker_starts[(unsigned char)t->marker_text[used]] = 1;
        used += m.n;
    }
    return 0;
}

/* LEGAL_INITIALS: its one-character ASCII members (a longer one is never a word's first). */
static int initials_from(Tables *t, PyObject *set) {
    if (!exact_set(set)) {
        PyErr_SetString(PyExc_ValueError, "LEGAL_INITIALS: a set");
        return -1;
    }
    PyObject *members = PyObject_GetIter(set), *item;
    if (members == NULL) {
        return -1;
    }
    while ((item = PyIter_Next(members)) != NULL) {
        if (PyUnicode_Check(item) && PyUnicode_GET_LENGTH(item) == 1 &&
            PyUnicode_READ_CHAR(item, 0) < 128) {
            t->initial[PyUnicode_READ_CHAR(item, 0)] = 1;
        }
        Py_DECREF(item);
    }
    Py_DECREF(members);
    return PyErr_Occurred() ? -1 : 0;
}

/* SOUND: one ASCII letter -> a digit 1 to 9 (the key is written a character a digit). */
static int sound_from(Tables *t, PyObject *dict) {
    if (!PyDict_CheckExact(dict)) {
        PyErr_SetString(PyExc_ValueError, "SOUND: a dict");
        return -1;
    }
    PyObject *key, *value;
    Py_ssize_t at = 0;
    while (PyDict_Next(dict, &at, &key, &value)) {
        long digit = PyLong_CheckExact(value) ? PyLong_AsLong(value) : -1;
        if (!PyUnicode_CheckExact(key) || PyUnicode_GET_LENGTH(key) != 1 || digit < 1 ||
            digit > 9) {
            PyErr_Clear();
            PyErr_SetString(PyExc_ValueError, "SOUND: a character -> 1 to 9");
            return -1;
        }
        Py_UCS4 c = PyUnicode_READ_CHAR(key, 0);
        if (c < 128) {
            t->sound[c] = (uint8_t)digit;
        }
    }
    return 0;
}

/* NameReading: a tuple's subclass of these fields, in this order (`reading_fields`). */
static int reading_from(Tables *t, PyObject *type) {
    static const char *fields = "('raw', 'tokens', 'name', 'sorted_name', 'numbers', 'given', "
                                "'family', 'trade', 'sounds', 'household')";
    if (!PyType_Check(type) || !PyType_IsSubtype((PyTypeObject *)type, &PyTuple_Type)) {
        PyErr_SetString(PyExc_ValueError, "NameReading: a tuple's subclass");
        return -1;
    }
    PyObject *names = PyObject_GetAttrString(type, "_fields");
    PyObject *written = names ? PyObject_Repr(names) : NULL;
    Py_XDECREF(names);
    if (written == NULL) {
        return -1;
    }
    int same = PyUnicode_CompareWithASCIIString(written, fields) == 0;
    Py_DECREF(written);
    if (!same) {
        PyErr_SetString(PyExc_ValueError, "NameReading's fields are not the ones read here");
        return -1;
    }
    t->reading = (PyTypeObject *)type;
    return 0;
}

/* setup_names(NameReading, MAX_CHARS, LEGAL_PHRASES, TRADE_PHRASES, LONG_LEGAL_FORMS,
 * LEGAL_INITIALS, PLACE_WORDS, JOB_SEPARATORS, TRADE_NAME_MARKERS, SOUND): names.py's tables,
 * once, from records.py. A table of another shape than these rules read: ValueError. */
static PyObject *native_setup_names(PyObject *module, PyObject *args) {
    PyObject *reading, *legal, *trade, *forms, *initials, *places, *separators, *markers, *sound;
    Py_ssize_t max_chars;
    if (!PyArg_ParseTuple(args, "OnOOOOOOOO", &reading, &max_chars, &legal, &trade, &forms,
                          &initials, &places, &separators, &markers, &sound)) {
        return NULL;
    }
    Tables *t = PyMem_Calloc(1, sizeof(Tables));
    if (t == NULL) {
        return PyErr_NoMemory();
    }
    t->held = Py_NewRef(args);
    t->max_chars = max_chars;
    t->place_words = places;
    t->legal_forms = PyUnicode_InternFromString("legal_forms");
    t->filler = PyUnicode_InternFromString("filler");
    t->abbreviations = PyUnicode_InternFromString("abbreviations");
    t->business = PyUnicode_InternFromString("business");
    if (t->legal_forms == NULL || t->filler == NULL || t->abbreviations == NULL ||
        t->business == NULL) {
        goto refused;
    }
    if (max_chars < 0 || max_chars > NAME_CHARS) {
        PyErr_Format(PyExc_ValueError, "MAX_CHARS: 0 to %d", NAME_CHARS);
        goto refused;
    }
    if (!PyFrozenSet_CheckExact(places)) {
        PyErr_SetString(PyExc_ValueError, "PLACE_WORDS: a frozenset");
        goto refused;
    }
    if (reading_from(t, reading) < 0 || phrases_from(t, legal, trade) < 0 ||
        words_from(forms, "LONG_LEGAL_FORMS", t->forms, MAX_FORMS, &t->nforms) < 0 ||
        initials_from(t, initials) < 0 || separators_from(t, separators) < 0 ||
        markers_from(t, markers) < 0 || sound_from(t, sound) < 0) {
        goto refused;
    }
    tables = t; /* the old tables stay: a call under way may still read them */
    Py_RETURN_NONE;
refused:
    Py_DECREF(t->held);
    Py_XDECREF(t->legal_forms);
    Py_XDECREF(t->filler);
    Py_XDECREF(t->abbreviations);
    Py_XDECREF(t->business);
    PyMem_Free(t);
    return NULL;
}

/* ---- A party's blocking keys, as `blocking._keys` makes them --------------------------------
 *
 * The same keys in the same order, for a party whose name's tokens and fields are ASCII str
 * and who has no trade name; `block_keys` answers None for any other, and Python makes them
 * (so only ASCII is written here: a key is its parts' bytes). The name's keys are made each
 * time, not kept as `_name_keys` keeps them: in C they cost less than the lookup. The
 * nicknames are looked up in names.NICKNAMES itself (`setup_keys`), the sounds with the name
 * reading's table (`setup_names`).
 */

#define KEY_TOKENS 256 /* a name of more words is left to Python (none is near it) */
#define MOST_KEYS (1 + 2 * KEY_TOKENS + 6 + 8 + 3 + 3 + 1) /* nj, n, ni, fields, ss, zs/cs, h */

static PyObject *nicknames = NULL; /* names.NICKNAMES, from `setup_keys` */

/* An ASCII str, exactly (not a subclass, whose equality or truth may be its own). */
static inline int ascii(PyObject *o) {
    return PyUnicode_CheckExact(o) && PyUnicode_IS_ASCII(o);
}

/* kind + a, or kind + a + "|" + b when b is given (b.s not NULL) */
static PyObject *key_of(const char *kind, Text a, Text b) {
    Py_ssize_t k = (Py_ssize_t)strlen(kind);
    PyObject *out = PyUnicode_New(k + a.n + (b.s != NULL ? 1 + b.n : 0), 127);
    if (out == NULL) {
        return NULL;
    }
    char *d = (char *)PyUnicode_1BYTE_DATA(out);
    memcpy(d, kind, (size_t)k);
    memcpy(d + k, a.s, (size_t)a.n);
    if (b.s != NULL) {
        d[k + a.n] = '|';
        memcpy(d + k + a.n + 1, b.s, (size_t)b.n);
    }
    return out;
}

static const Text NONE = {NULL, 0};

/* "nj:" and the tokens joined with nothing between them */
static PyObject *joined_key(PyObject *const *tokens, int n) {
    return join_after("nj:", "", tokens, n);
}

static inline int same_str(PyObject *a, PyObject *b) { /* == of ASCII str */
    Text x = text_of(a);
    return same_text(x, (const char *)PyUnicode_1BYTE_DATA(b), PyUnicode_GET_LENGTH(b));
}

typedef struct {
    PyObject *items[MOST_KEYS]; /* the keys made so far (owned) */
    int n;
} Keys;

static inline int put(Keys *k, PyObject *key) {
    if (key == NULL) {
        return -1;
    }
    k->items[k->n++] = key;
    return 0;
}

/* The tokens and, after them, the full forms of their nicknames not among them (Bob is
 * Robert): `tokens` borrowed, the full forms borrowed from NICKNAMES. The count, -1 with an
 * exception, SLOW for a full form that is not an ASCII str. */
static int with_full_forms(PyObject *tokens, PyObject **out) {
    int n = (int)PyTuple_GET_SIZE(tokens), all = n;
    for (int i = 0; i < n; i++) {
        out[i] = PyTuple_GET_ITEM(tokens, i);
    }
    for (int i = 0; i < n; i++) {
        PyObject *full = PyDict_GetItemWithError(nicknames, out[i]);
        if (full == NULL) {
            if (PyErr_Occurred()) {
                return -1;
            }
            continue; /* its own full form: among the tokens */
        }
        if (!ascii(full)) {
            return SLOW;
        }
        int known = 0;
        for (int j = 0; j < n && !known; j++) {
            known = same_str(full, out[j]);
        }
        if (!known) {
            out[all++] = full;
        }
    }
    return all;
}

/* Python's order of str, for ASCII texts */
static int by_text(const void *x, const void *y) {
    const Text *a = x, *b = y;
    int c = memcmp(a->s, b->s, (size_t)(a->n < b->n ? a->n : b->n));
    return c != 0 ? c : (a->n > b->n) - (a->n < b->n);
}

/* Python's sorted(set(texts)) of a few ASCII texts, in place: how many are kept. */
static int sorted_set(Text *texts, int n) {
    qsort(texts, (size_t)n, sizeof(Text), by_text);
    int kept = 0;
    for (int i = 0; i < n; i++) {
        if (kept == 0 || !same_text(texts[kept - 1], texts[i].s, texts[i].n)) {
            texts[kept++] = texts[i];
        }
    }
    return kept;
}

/* `_name_keys`: the word keys into `k`, the sound pairs into `pairs` (put in later). */
static int name_keys(const Tables *t, PyObject *tokens, Keys *k, Keys *pairs) {
    PyObject *words[2 * KEY_TOKENS];
    int n = with_full_forms(tokens, words);
    if (n < 0) {
        return n;
    }
    int given = (int)PyTuple_GET_SIZE(tokens);
    if (given > 0 && put(k, joined_key(words, given)) < 0) {
        return FAILED;
    }
    for (int i = 0; i < n; i++) {
        if (PyUnicode_GET_LENGTH(words[i]) > 1 &&
            put(k, key_of("n:", text_of(words[i]), NONE)) < 0) {
            return FAILED;
        }
    }
    /* a word of the first three and another's first letter; equal words make no key */
    PyObject *head[3];
    int nhead = 0;
    for (int i = 0; i < n && i < 3; i++) {
        if (PyUnicode_GET_LENGTH(words[i]) > 1) {
            head[nhead++] = words[i];
        }
    }
    for (int a = 0; a < nhead; a++) {
        for (int b = 0; b < nhead; b++) {
            if (!same_str(head[a], head[b])) {
                Text initial = {(const char *)PyUnicode_1BYTE_DATA(head[b]), 1};
                if (put(k, key_of("ni:", text_of(head[a]), initial)) < 0) {
                    return FAILED;
                }
            }
        }
    }
    /* the sounds of the first three words of more than one letter, two by two, sorted */
    char keys[3][4];
    Text heard[3];
    int nheard = 0;
    for (int i = 0; i < n && nheard < 3; i++) {
        if (PyUnicode_GET_LENGTH(words[i]) > 1) {
            heard[nheard] = sound_text(t, text_of(words[i]), keys[nheard]);
            nheard++;
        }
    }
    nheard = sorted_set(heard, nheard);
    for (int a = 0; a < nheard; a++) {
        for (int b = a + 1; b < nheard; b++) {
            if (put(pairs, key_of("ss:", heard[a], heard[b])) < 0) {
                return FAILED;
            }
        }
    }
    return DONE;
}

/* The fields block_keys reads, in its arguments' order. */
enum { K_TOKENS, K_EMAIL, K_DOMAIN, K_WEBSITE, K_PHONE, K_POSTAL, K_TAX, K_LINE1, K_SOUNDS,
       K_CITY, K_HOUSEHOLD, K_FIELDS };

/* Every argument of the kinds the keys are written for: SLOW where Python makes them. */
static int plain_fields(PyObject *const *f) {
    PyObject *tokens = f[K_TOKENS], *sounds = f[K_SOUNDS];
    if (!PyTuple_CheckExact(tokens) || PyTuple_GET_SIZE(tokens) > KEY_TOKENS ||
        !PyTuple_CheckExact(sounds)) {
        return SLOW;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(tokens); i++) {
        if (!ascii(PyTuple_GET_ITEM(tokens, i))) {
            return SLOW;
        }
    }
    Py_ssize_t heard = PyTuple_GET_SIZE(sounds);
    if (heard > 0 &&
        (!ascii(PyTuple_GET_ITEM(sounds, 0)) || !ascii(PyTuple_GET_ITEM(sounds, heard - 1)))) {
        return SLOW;
    }
    for (int i = K_EMAIL; i < K_FIELDS; i++) {
        if (i != K_SOUNDS && !ascii(f[i])) {
            return SLOW;
        }
    }
    return DONE;
}

/* The identifiers' keys, then the phone's last seven characters, in `_keys`' order. */
static int field_keys(PyObject *const *f, Keys *k) {
    static const struct { int field; const char *kind; } kinds[] = {
        {K_EMAIL, "e:"}, {K_DOMAIN, "d:"}, {K_WEBSITE, "w:"}, {K_PHONE, "t:"},
        {K_POSTAL, "z:"}, {K_TAX, "x:"}, {K_LINE1, "a:"},
    };
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        Text value = text_of(f[kinds[i].field]);
        if (value.n > 0 && put(k, key_of(kinds[i].kind, value, NONE)) < 0) {
            return FAILED;
        }
    }
    Text phone = text_of(f[K_PHONE]);
    if (phone.n > 7) {
        phone = (Text){phone.s + phone.n - 7, 7};
    }
    return phone.n > 0 ? put(k, key_of("t7:", phone, NONE)) : DONE;
}

/* A misspelt name's first (and last) word's sound within its postal code or town; the
 * household's family name. */
static int place_keys(PyObject *const *f, Keys *k) {
    PyObject *sounds = f[K_SOUNDS];
    Py_ssize_t heard = PyTuple_GET_SIZE(sounds);
    Text postal = text_of(f[K_POSTAL]), city = text_of(f[K_CITY]);
    if (heard > 0) {
        Text first = text_of(PyTuple_GET_ITEM(sounds, 0));
        if (postal.n > 0 && put(k, key_of("zs:", postal, first)) < 0) {
            return FAILED;
        }
        if (city.n > 0) {
            if (put(k, key_of("cs:", city, first)) < 0) {
                return FAILED;
            }
            if (heard > 1 &&
                put(k, key_of("cs:", city, text_of(PyTuple_GET_ITEM(sounds, heard - 1)))) < 0) {
                return FAILED;
            }
        }
    }
    Text household = text_of(f[K_HOUSEHOLD]);
    return household.n > 0 ? put(k, key_of("h:", household, NONE)) : DONE;
}

static void keys_clear(Keys *k) {
    for (int i = 0; i < k->n; i++) {
        Py_DECREF(k->items[i]);
    }
    k->n = 0;
}

/* The keys as a list, in order: the name's words, the fields, the sound pairs, the places. */
static PyObject *keys_list(PyObject *const *f, Keys *k, Keys *pairs) {
    int rc = field_keys(f, k);
    for (int i = 0; rc == DONE && i < pairs->n; i++) {
        k->items[k->n++] = pairs->items[i]; /* moved */
    }
    if (rc == DONE) {
        pairs->n = 0;
        rc = place_keys(f, k);
    }
    PyObject *out = rc == DONE ? PyList_New(k->n) : NULL;
    if (out == NULL) {
        return NULL;
    }
    for (int i = 0; i < k->n; i++) {
        PyList_SET_ITEM(out, i, k->items[i]); /* moved */
    }
    k->n = 0;
    return out;
}

/* block_keys(tokens, email, domain, website, phone, postal, tax, line1, sounds, city,
 * household) -> `blocking._keys` of a party without a trade name, or None (Python makes
 * them) for one whose tokens or fields are not all ASCII str. */
static PyObject *native_block_keys(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != K_FIELDS) {
        PyErr_SetString(PyExc_TypeError, "block_keys(tokens, email, domain, website, phone, "
                                         "postal, tax, line1, sounds, city, household)");
        return NULL;
    }
    const Tables *t = tables;
    if (t == NULL || nicknames == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "block_keys before setup_names and setup_keys");
        return NULL;
    }
    if (plain_fields(args) == SLOW) {
        Py_RETURN_NONE;
    }
    Keys k, pairs; /* ~4 kB each, on the stack: no allocation per party */
    k.n = pairs.n = 0;
    PyObject *out = NULL;
    int rc = name_keys(t, args[K_TOKENS], &k, &pairs);
    if (rc == DONE) {
        out = keys_list(args, &k, &pairs);
    } else if (rc == SLOW) {
        out = Py_NewRef(Py_None);
    }
    keys_clear(&k);
    keys_clear(&pairs);
    return out;
}

/* setup_keys(NICKNAMES): the dict the nicknames' full forms are looked up in (itself: a
 * word added to it later is read as Python reads it). */
static PyObject *native_setup_keys(PyObject *module, PyObject *table) {
    if (!PyDict_CheckExact(table)) {
        PyErr_SetString(PyExc_ValueError, "NICKNAMES: a dict");
        return NULL;
    }
    Py_XSETREF(nicknames, Py_NewRef(table));
    Py_RETURN_NONE;
}

static PyMethodDef Index_methods[] = {
    {"add", (PyCFunction)Index_add, METH_O, "add(keys) -> the party's number"},
    {"size_of", (PyCFunction)Index_size_of, METH_O, "size_of(key) -> parties sharing it"},
    {"rank", (PyCFunction)Index_rank, METH_VARARGS, "rank(probes, keep) -> (best, sums, sure)"},
    {"blocks", (PyCFunction)Index_blocks, METH_NOARGS, "blocks() -> {key: [party, ...]}"},
    {NULL},
};

static PyGetSetDef Index_getset[] = {
    {"size", (getter)Index_len, NULL, "parties added", NULL},
    {NULL},
};

static PyTypeObject IndexType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "sync.linkage._native.Index",
    .tp_basicsize = sizeof(Index),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The blocks of a BlockIndex as flat C arrays (blocking.py).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Index_init,
    .tp_dealloc = (destructor)Index_dealloc,
    .tp_methods = Index_methods,
    .tp_getset = Index_getset,
};

static PyMethodDef module_methods[] = {
    {"setup", (PyCFunction)native_setup, METH_VARARGS, "the scorers and rules levels uses"},
    {"levels", (PyCFunction)(void (*)(void))native_levels, METH_FASTCALL,
     "levels(row_a, row_b, a, b) -> a pair's agreement pattern (compare.levels)"},
    {"setup_names", (PyCFunction)native_setup_names, METH_VARARGS,
     "names.py's tables read_name uses"},
    {"read_name", (PyCFunction)(void (*)(void))native_read_name, METH_FASTCALL,
     "read_name(name, given_name, family_name, vocabulary) -> records.NameReading, or None"},
    {"setup_keys", (PyCFunction)native_setup_keys, METH_O, "names.NICKNAMES block_keys uses"},
    {"block_keys", (PyCFunction)(void (*)(void))native_block_keys, METH_FASTCALL,
     "block_keys(tokens, email, ...) -> blocking._keys of a party without a trade name, or None"},
    {NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "sync.linkage._native",
    "The customer matcher's native core (decision 0028).", -1, module_methods,
};

PyMODINIT_FUNC PyInit__native(void) {
    if (PyType_Ready(&IndexType) < 0) {
        return NULL;
    }
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) {
        return NULL;
    }
    Py_INCREF(&IndexType);
    if (PyModule_AddObject(m, "Index", (PyObject *)&IndexType) < 0) {
        Py_DECREF(&IndexType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
