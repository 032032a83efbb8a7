/** The parsed form of the SOQL subset the simulator understands. */

/** A field path as written: `Name`, or one parent hop such as `Account.Name`. */
export type FieldPath = { parts: string[]; text: string; start: number };

export type SelectItem = { kind: 'field'; path: FieldPath } | { kind: 'count'; start: number };

export type Literal =
  | { kind: 'string'; value: string; start: number }
  | { kind: 'number'; value: number; start: number }
  | { kind: 'boolean'; value: boolean; start: number }
  | { kind: 'null'; start: number }
  | { kind: 'date'; value: string; start: number }
  | { kind: 'datetime'; value: number; start: number }
  /** TODAY, LAST_N_DAYS:7, …: a range of days relative to the clock. */
  | { kind: 'dateLiteral'; name: string; n?: number; start: number };

export type CompareOp = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'LIKE';

export type Condition =
  | { kind: 'compare'; path: FieldPath; op: CompareOp; value: Literal }
  | { kind: 'in'; path: FieldPath; negated: boolean; values: Literal[] }
  | { kind: 'and' | 'or'; items: Condition[] }
  | { kind: 'not'; item: Condition };

export type OrderItem = { path: FieldPath; descending: boolean; nullsLast: boolean };

export type SoqlQuery = {
  select: SelectItem[];
  from: { name: string; start: number };
  where?: Condition;
  orderBy: OrderItem[];
  limit?: number;
  offset?: number;
};
