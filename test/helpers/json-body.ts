// A response body a test reads field by field (`answer.body.tiles[0].id`): its assertions are what
// check the shape, so the type stays open here, once, instead of a cast in every expectation.
// biome-ignore lint/suspicious/noExplicitAny: the assertions check the shape; see above
export type JsonBody = any;
