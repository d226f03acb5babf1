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
static int read_kind(Index *self, PyObject *key, Block *block) {
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
