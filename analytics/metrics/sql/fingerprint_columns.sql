-- grain: one row per column of the pair_facts view (column_name first): which pair ids the fingerprint can read
describe pair_facts
