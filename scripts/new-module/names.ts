/** The names a module goes by, from its one name (`reviews`): types, functions, tables, variables. */
export interface ModuleNames {
  /** `reviews`: the package, schema, MODULES entry and OpenAPI tag. */
  readonly module: string;
  /** `Reviews`: `ReviewsApi`, `createReviewsModule`. */
  readonly Module: string;
  /** `REVIEWS`: `REVIEWS_URL`. */
  readonly MODULE: string;
  /** `review`: the first resource (`review_id`, `review_not_found`). */
  readonly thing: string;
  /** `Review`: its DTO, event (`ReviewCreated`) and methods (`createReview`). */
  readonly Thing: string;
}

export const NAME_RULE = /^[a-z][a-z0-9]{2,30}$/;

export function namesOf(module: string): ModuleNames {
  if (!NAME_RULE.test(module)) throw new Error(`a module's name is its schema and its MODULES entry: 3 to 31 lower-case letters and digits, starting with a letter (got "${module}")`);
  const capital = (word: string) => word[0]!.toUpperCase() + word.slice(1);
  // Its first resource is what the module holds, one of them: "reviews" holds reviews.
  const thing = module.endsWith('s') && !module.endsWith('ss') ? module.slice(0, -1) : `${module}item`;
  return { module, Module: capital(module), MODULE: module.toUpperCase(), thing, Thing: capital(thing) };
}
