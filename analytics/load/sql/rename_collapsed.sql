-- grain: the collapsed table dd renamed to the new_<table> it replaces. Slots: n, the name
alter table dd rename to {n}
