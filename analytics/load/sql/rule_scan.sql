-- grain: one row: for each validation rule, its first failing row and how many rows fail it, over the rows the where clause keeps. Slots (sqltext.render): aggs, a min and a count per rule; rel, the table checked; w, which rows count
select {aggs} from {rel} where {w}
