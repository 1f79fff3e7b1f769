"""Planning: the migrations folder and its record, the plan from the replayed history to the
specs, its steps, the pipeline that writes the next migration, and the review of it."""
