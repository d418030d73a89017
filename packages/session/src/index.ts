export const placeholder: number = 0;
