/** What a `serve` process runs: everything, or one role of a split deployment. */
export type Role = 'all' | 'responder' | 'worker' | 'bot';
