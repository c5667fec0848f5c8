/**
 * Posts from 300 users in six languages. Users come online in bursts (each
 * on its own rhythm), so per-user session windows have gaps to find. A post
 * is written as one row per hashtag (`hashtag`, `tag_index` 0, 1, …; a post
 * without hashtags is one row with `hashtag` null): the rows share the post's
 * id, text and `hashtags` list, `distinct(hashtag)` counts hashtags, and
 * views about posts keep only the `tag_index = 0` row of each post.
 */
import { hex, intBetween, normal, pick, weighted, type Rng } from '../shared/random.js';

/** Posts per minute; rows are about 1.75 × this (a post has 1.75 rows on average). */
export const history = { days: 1, eventsPerMinute: 60 };

const USERS = 300;
const ADJECTIVES = ['quiet', 'lucky', 'brave', 'sunny', 'clever', 'wild', 'gentle', 'rapid', 'curious', 'mellow', 'bold', 'tiny'] as const;
const ANIMALS = ['otter', 'falcon', 'lynx', 'panda', 'heron', 'fox', 'koala', 'orca', 'badger', 'gecko', 'wren', 'yak'] as const;

/** Language, share of posts, a few words to build texts from. */
const LANGS = [
  ['en', 46, ['just', 'finished', 'the', 'best', 'morning', 'run', 'today', 'with', 'friends', 'new', 'release', 'love', 'this']],
  ['es', 16, ['hoy', 'por', 'fin', 'el', 'mejor', 'partido', 'con', 'amigos', 'nueva', 'canción', 'me', 'encanta']],
  ['pt', 10, ['hoje', 'foi', 'o', 'melhor', 'jogo', 'com', 'amigos', 'nova', 'música', 'adoro', 'isso']],
  ['fr', 9, ['enfin', 'le', 'meilleur', 'café', 'de', 'la', 'semaine', 'avec', 'les', 'amis', 'nouvelle', 'sortie']],
  ['de', 8, ['endlich', 'der', 'beste', 'Lauf', 'heute', 'mit', 'Freunden', 'neues', 'Album', 'liebe', 'das']],
  ['ja', 11, ['今日', 'は', '最高', 'の', '朝', 'ラン', '友達', 'と', '新曲', '大好き']],
] as const;

const HASHTAGS = [
  'worldcup', 'running', 'coffee', 'music', 'newrelease', 'travel', 'foodie', 'tech', 'ai', 'weekend',
  'photography', 'gaming', 'books', 'fitness', 'nature', 'movies', 'art', 'coding', 'football', 'sunset',
] as const;

const MINUTE_MS = 60_000;

export interface Post extends Record<string, unknown> {
  ts: number;
  post_id: string;
  user: string;
  text: string;
  /** The post's hashtags, comma-joined, without `#` (empty when it has none). */
  hashtags: string;
  lang: string;
  likes: number;
}

export interface PostRow extends Post {
  /** One hashtag of the post (null for a post without hashtags). */
  hashtag: string | null;
  /** Position of `hashtag` in `hashtags`; the row with 0 stands for the post. */
  tag_index: number;
}

function handle(i: number): string {
  return `@${ADJECTIVES[i % ADJECTIVES.length]}_${ANIMALS[Math.floor(i / ADJECTIVES.length) % ANIMALS.length]}${i % 7}`;
}

/**
 * Whether user `i` is online at `tsMs`: each user has a cycle of 1.5–4 h
 * and is active for 10–40 minutes of it, at a phase of their own.
 */
function online(i: number, tsMs: number): boolean {
  const period = 90 + ((i * 37) % 150);
  const active = 10 + ((i * 13) % 31);
  const minute = Math.floor(tsMs / MINUTE_MS) + i * 11;
  return minute % period < active;
}

/** A user who is online now; after a few tries anyone (a night owl). */
function author(rng: Rng, tsMs: number): number {
  for (let attempt = 0; attempt < 40; attempt++) {
    const i = intBetween(rng, 0, USERS - 1);
    if (online(i, tsMs)) return i;
  }
  return intBetween(rng, 0, USERS - 1);
}

export function event(rng: Rng, tsMs: number): Post {
  const user = author(rng, tsMs);
  const [lang, , words] = weighted(
    rng,
    LANGS.map((l) => [l, l[1]] as const),
  );
  const tags = new Set<string>();
  const tagCount = weighted(rng, [
    [0, 15],
    [1, 30],
    [2, 35],
    [3, 20],
  ] as const);
  while (tags.size < tagCount) tags.add(pick(rng, HASHTAGS));
  const sentence = Array.from({ length: intBetween(rng, 4, 12) }, () => pick(rng, words)).join(' ');
  const text = [sentence, ...[...tags].map((t) => `#${t}`)].join(' ');
  // Likes are heavy-tailed: most posts get a handful, a few go viral.
  const likes = Math.min(Math.floor(Math.exp(normal(rng, 1.8, 1.6))), 250_000);
  return {
    ts: tsMs,
    post_id: `p${hex(rng, 12)}`,
    user: handle(user),
    text,
    hashtags: [...tags].join(','),
    lang,
    likes,
  };
}

/** The rows a post is written as: one per hashtag, or one with `hashtag` null. */
export function rows(post: Record<string, unknown>): PostRow[] {
  const p = post as Post;
  const tags = p.hashtags === '' ? [] : p.hashtags.split(',');
  if (tags.length === 0) return [{ ...p, hashtag: null, tag_index: 0 }];
  return tags.map((hashtag, tag_index) => ({ ...p, hashtag, tag_index }));
}

const BREAKAGES: readonly ((row: PostRow, rng: Rng) => string)[] = [
  // malformed JSON: a cut-off line
  (r, rng) => {
    const full = JSON.stringify(r);
    return full.slice(0, intBetween(rng, 1, full.length - 1));
  },
  // wrong type: likes abbreviated the way the app shows them
  (r) => JSON.stringify({ ...r, likes: `${(r.likes / 1000).toFixed(1)}k` }),
  // user_handle: a display name instead of a handle
  (r) => JSON.stringify({ ...r, user: r.user.slice(1).replace('_', ' ') }),
  // text_length: past 280 characters
  (r) => JSON.stringify({ ...r, text: `${r.text} ${'a'.repeat(300)}` }),
  // lang_known
  (r) => JSON.stringify({ ...r, lang: 'xx' }),
  // likes_non_negative
  (r) => JSON.stringify({ ...r, likes: -1 - r.likes }),
  // hashtag_format: with the # and capitals
  (r) => JSON.stringify({ ...r, hashtag: `#${(r.hashtag ?? 'news').toUpperCase()}`, hashtags: `#${(r.hashtag ?? 'news').toUpperCase()}` }),
  // hashtag_listed: a row whose hashtag is not among the post's hashtags
  (r) => JSON.stringify({ ...r, hashtag: 'unlisted', hashtags: r.hashtags === '' ? 'music' : r.hashtags }),
];

export function invalid(rng: Rng, tsMs: number): string {
  const rowsOfPost = rows(event(rng, tsMs));
  return pick(rng, BREAKAGES)(pick(rng, rowsOfPost), rng);
}
