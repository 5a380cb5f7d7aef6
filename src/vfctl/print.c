// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "print.h"

/*
 * JSON mode keeps the document as a tree of nodes carved from big blocks
 * and writes it at pr_finish() in json-c's JSON_C_TO_STRING_PRETTY |
 * JSON_C_TO_STRING_NOSLASHESCAPE layout, byte for byte (what vfctl printed
 * through json-c before, and what make check-golden compares): a json-c
 * object per function cost a hash table and a dozen allocations, a fifth
 * of list --json's time on a thousand functions. As with json-c, a key
 * given twice in one object keeps its first place and takes the last value.
 */
#define MAX_DEPTH 16

enum node_type { N_NULL, N_OBJ, N_ARR, N_STR, N_INT, N_UINT, N_BOOL };

struct node {
	struct node *next;		/* the next member of the parent */
	struct node *first, *last;	/* members (N_OBJ, N_ARR) */
	const char *key;		/* in an object */
	union {
		const char *s;
		long long i;
		unsigned long long u;
		bool b;
	} v;
	enum node_type type;
};

/* nodes and strings come from blocks freed together at pr_finish() */
struct block {
	struct block *next;
	size_t used, size;
	max_align_t data[];
};

static bool json_mode;
static bool text_off;	/* pr_text_off(): JSON only */
static struct node *stack[MAX_DEPTH];
static int depth = -1;
static struct block *blocks;

void pr_init(bool json)
{
	json_mode = json;
	depth = -1;
}

static void *blk_alloc(size_t n)
{
	struct block *b = blocks;

	n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	if (!b || b->size - b->used < n) {
		size_t size = n > 65536 ? n : 65536;

		b = malloc(sizeof(*b) + size);
		if (!b)
			return NULL;
		b->next = blocks;
		b->used = 0;
		b->size = size;
		blocks = b;
	}
	b->used += n;
	return (char *)b->data + b->used - n;
}

static const char *blk_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *c = blk_alloc(n);

	return c ? memcpy(c, s, n) : NULL;
}

static void blk_free_all(void)
{
	while (blocks) {
		struct block *b = blocks;

		blocks = b->next;
		free(b);
	}
}

static struct node *node_new(enum node_type t)
{
	struct node *n = blk_alloc(sizeof(*n));

	if (n) {
		memset(n, 0, sizeof(*n));
		n->type = t;
	}
	return n;
}

/* Out of memory drops the value: pr_finish() says so. */
static bool oom;

/* o placed under the open container; returns the node in place (a key
 * given again: the old node, now holding o's value), NULL if none */
static struct node *add(const char *key, struct node *o)
{
	struct node *p;

	if (!o) {
		oom = true;
		return NULL;
	}
	if (depth < 0) {
		/* the document root */
		stack[++depth] = o;
		return o;
	}
	p = stack[depth];
	if (p->type == N_OBJ) {
		key = key ? key : "?";	/* a printer's bug */
		for (struct node *m = p->first; m; m = m->next)
			if (!strcmp(m->key, key)) {
				/* json-c's object_add: the old place, the new value */
				o->key = m->key;
				o->next = m->next;
				*m = *o;
				return m;
			}
		o->key = blk_strdup(key);
		if (!o->key) {
			oom = true;
			return NULL;
		}
	}
	if (p->last)
		p->last->next = o;
	else
		p->first = o;
	p->last = o;
	return o;
}

static void push(const char *key, struct node *o)
{
	if (!o) {
		oom = true;
		return;
	}
	if (depth < 0) {
		/* every document says which schema it follows, first */
		stack[++depth] = o;
		if (o->type == N_OBJ)
			pr_int("schema", NULL, PR_SCHEMA);
		return;
	}
	o = add(key, o);
	if (o && depth + 1 < MAX_DEPTH)
		stack[++depth] = o;
}

void pr_obj_begin(const char *key)
{
	if (json_mode)
		push(key, node_new(N_OBJ));
}

void pr_arr_begin(const char *key)
{
	if (json_mode)
		push(key, node_new(N_ARR));
}

void pr_obj_end(void)
{
	if (json_mode && depth > 0)
		depth--;
}

void pr_arr_end(void)
{
	pr_obj_end();
}

void pr_str(const char *key, const char *fmt, const char *v)
{
	if (json_mode) {
		struct node *n = node_new(v ? N_STR : N_NULL);

		if (n && v && !(n->v.s = blk_strdup(v)))
			n = NULL;
		add(key, n);
	} else if (fmt && !text_off) {
		printf(fmt, v ? v : "-");
	}
}

void pr_int(const char *key, const char *fmt, long long v)
{
	if (json_mode) {
		struct node *n = node_new(N_INT);

		if (n)
			n->v.i = v;
		add(key, n);
	} else if (fmt && !text_off) {
		printf(fmt, v);
	}
}

void pr_uint(const char *key, const char *fmt, unsigned long long v)
{
	if (json_mode) {
		struct node *n = node_new(N_UINT);

		if (n)
			n->v.u = v;
		add(key, n);
	} else if (fmt && !text_off) {
		printf(fmt, v);
	}
}

static void add_bool(const char *key, bool v)
{
	struct node *n = node_new(N_BOOL);

	if (n)
		n->v.b = v;
	add(key, n);
}

void pr_bool(const char *key, const char *fmt, bool v)
{
	if (json_mode)
		add_bool(key, v);
	else if (fmt && !text_off)
		printf(fmt, v ? "yes" : "no");
}

void pr_onoff(const char *key, const char *fmt, bool v)
{
	if (json_mode)
		add_bool(key, v);
	else if (fmt && !text_off)
		printf(fmt, v ? "on" : "off");
}

void pr_null(const char *key, const char *text)
{
	if (json_mode)
		add(key, node_new(N_NULL));
	else if (text && !text_off)
		fputs(text, stdout);
}

void pr_text_off(bool off)
{
	text_off = off;
}

void pr_text(const char *fmt, ...)
{
	va_list ap;

	if (json_mode || text_off)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

/* json-c's escaping: the two-letter escapes, \u00xx (lower case) for the
 * other control characters, '/' as is (NOSLASHESCAPE), the rest as is */
static void put_str(FILE *f, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	putc_unlocked('"', f);
	for (const unsigned char *c = (const unsigned char *)s; *c; c++)
		switch (*c) {
		case '\b': fputs("\\b", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		case '\f': fputs("\\f", f); break;
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		default:
			if (*c < ' ') {
				fputs("\\u00", f);
				putc_unlocked(hex[*c >> 4], f);
				putc_unlocked(hex[*c & 0xf], f);
			} else {
				putc_unlocked(*c, f);
			}
		}
	putc_unlocked('"', f);
}

static void put_indent(FILE *f, int level)
{
	for (int i = 0; i < level; i++)
		fputs("  ", f);
}

/* json-c's pretty layout: members on their own lines, two spaces a level,
 * "key":value, the closing bracket on its own line (an empty one too) */
static void put_node(FILE *f, const struct node *n, int level)
{
	switch (n->type) {
	case N_NULL:
		fputs("null", f);
		break;
	case N_STR:
		put_str(f, n->v.s);
		break;
	case N_INT:
		fprintf(f, "%lld", n->v.i);
		break;
	case N_UINT:
		fprintf(f, "%llu", n->v.u);
		break;
	case N_BOOL:
		fputs(n->v.b ? "true" : "false", f);
		break;
	case N_OBJ:
	case N_ARR:
		putc_unlocked(n->type == N_OBJ ? '{' : '[', f);
		for (const struct node *m = n->first; m; m = m->next) {
			if (m != n->first)
				putc_unlocked(',', f);
			putc_unlocked('\n', f);
			put_indent(f, level + 1);
			if (n->type == N_OBJ) {
				put_str(f, m->key);
				putc_unlocked(':', f);
			}
			put_node(f, m, level + 1);
		}
		putc_unlocked('\n', f);
		put_indent(f, level);
		putc_unlocked(n->type == N_OBJ ? '}' : ']', f);
		break;
	}
}

int pr_finish(void)
{
	int r = 0;

	/* a null root is no document (as json-c's NULL root was) */
	if (json_mode && depth >= 0 && stack[0] && stack[0]->type != N_NULL) {
		put_node(stdout, stack[0], 0);
		if (putchar('\n') == EOF)
			r = -errno;
	}
	if (json_mode && oom) {
		fprintf(stderr, "vfctl: out of memory: the JSON document above is incomplete\n");
		r = -ENOMEM;
	}
	stack[0] = NULL;
	depth = -1;
	oom = false;
	blk_free_all();
	if (fflush(stdout) == EOF)
		r = -errno;
	return r;
}
