import { randomUUID } from 'node:crypto';
import { ModuleError, type PageResult } from '@shop/contract-kit';
import { ReviewsErrors, ReviewCreated, type CreateReviewCommand, type CreateReviewResult, type ReviewsApi, type Review } from '@shop/reviews-contract';
import { fingerprint, type ModuleDatabase, type UnitOfWork } from '@shop/platform';
import { titleOf } from './domain.ts';
import * as repo from './repository.ts';

/** The reviews module's interface, in process. */
export class ReviewsService implements ReviewsApi {
  readonly #db: ModuleDatabase;
  readonly #uow: UnitOfWork;

  constructor(deps: { db: ModuleDatabase; uow: UnitOfWork }) {
    this.#db = deps.db;
    this.#uow = deps.uow;
  }

  async createReview(command: CreateReviewCommand, options: { idempotency_key?: string } = {}): Promise<CreateReviewResult> {
    const key = options.idempotency_key ?? null;
    const title = titleOf(command.title);
    const created_by = command.created_by.toLowerCase();
    const request = { idempotency_key: key, request_hash: key ? fingerprint({ title, created_by }) : null };
    // The row and its event commit together (the outbox), once per key.
    const { created, row } = await this.#uow.run(async (tx) => {
      const result = await repo.createReview(tx.db, { id: randomUUID(), title, created_by, ...request });
      if (result.created) tx.publish(ReviewCreated, { review_id: result.row.id, created_by, title });
      return result;
    });
    return { review: repo.toReview(row), created };
  }

  async getReview(id: string): Promise<Review> {
    const row = await repo.findReview(this.#db.kysely, id);
    if (!row) throw new ModuleError(ReviewsErrors.reviewNotFound, `no review with id ${id}`);
    return repo.toReview(row);
  }

  async listReviews(page: number): Promise<PageResult<Review>> {
    return repo.listReviews(this.#db.kysely, page);
  }
}
